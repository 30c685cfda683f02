"""TD4xx production: start-up, health checks, logs and environment defaults."""

from __future__ import annotations

import re
from collections.abc import Iterator

from trimdock.dockerfile.model import Instruction
from trimdock.dockerfile.shell import SHELLS, Command, Script, parse_script
from trimdock.report.finding import Severity
from trimdock.rules.analysis import Analysis
from trimdock.rules.base import Hit, rule


def _startup(analysis: Analysis) -> tuple[Instruction | None, Instruction | None, bool]:
    """Final image's ENTRYPOINT, CMD, and whether it has a HEALTHCHECK (not NONE)."""
    entrypoint: Instruction | None = None
    cmd: Instruction | None = None
    health = False
    for facts in analysis.final_stages:
        for instruction in facts.stage.instructions:
            if instruction.keyword == "ENTRYPOINT":
                entrypoint = instruction
                cmd = None  # ENTRYPOINT resets an inherited CMD
            elif instruction.keyword == "CMD":
                cmd = instruction
            elif instruction.keyword == "HEALTHCHECK":
                health = not (instruction.values[:1] and instruction.values[0].upper() == "NONE")
    return entrypoint, cmd, health


def startup_script(instruction: Instruction) -> Script:
    if instruction.json:
        argv = instruction.values
        if not argv:
            return Script("", (), True)
        if (
            argv[0].rsplit("/", 1)[-1] in SHELLS
            and len(argv) >= 3
            and argv[1].startswith("-")
            and "c" in argv[1]
        ):
            return parse_script(argv[2])
        return Script(
            " ".join(argv), (Command(tuple(argv), 0, 0, span=instruction.rest_span),), True
        )
    return parse_script(instruction.rest, instruction.rest_map)


# `-D` is not here: it means "stay in the foreground" to sshd and "data directory" to postgres.
_DAEMON_ARGS = re.compile(r"^(-d|--daemon|--daemonize|--detach|--background|start)$")
_DAEMON_OFF = frozenset({"no", "false", "off", "0"})
_RELAY = ("tail",)


def _daemonizes(script: Script) -> Command | None:
    for command in script.commands:
        if command.background:
            return command
        if (
            command.name in ("nohup", "daemon", "start-stop-daemon", "supervisord")
            and command.via != "wrapper"
        ):
            if command.name == "supervisord" and command.has_flag("-n", "--nodaemon"):
                continue
            return command
        if (
            command.name in ("service", "systemctl")
            and command.subcommand() in ("start", "restart")
        ) or (command.name == "service" and "start" in command.args):
            return command
        if command.name.endswith("ctl") and "start" in command.args:
            return command
    return None


def _relay(script: Script) -> Command | None:
    for command in script.commands:
        if command.name in _RELAY and command.has_flag("-f", "-F", "--follow"):
            return command
    return None


def _chain(script: Script) -> bool:
    real = [
        c
        for c in script.commands
        if c.via not in ("wrapper", "substitution") and c.name not in ("exec", "set")
    ]
    return len(real) > 1


def _shell_script_start(script: Script) -> bool:
    return any(c.argv[0].endswith(".sh") for c in script.commands if c.argv)


@rule(
    "TD401", "Start-up chain without a HEALTHCHECK", Severity.WARNING, "production",
    what="The final image starts through a chain (`a && b`, a helper before the app, a shell "
    "script, or a log relay) and has no HEALTHCHECK.",
    why="The container's main process is then the shell or the relay, not the app: the engine "
    "sees it running while the app is dead (practice: a start-up chain needs a health check).",
    example='CMD service nginx start && tail -f /var/log/nginx/access.log',
    instead='HEALTHCHECK CMD curl -fsS http://localhost/ || exit 1\n'
    'CMD ["nginx", "-g", "daemon off;"]',
)  # fmt: skip
def chain_without_healthcheck(analysis: Analysis) -> Iterator[Hit]:
    entrypoint, cmd, health = _startup(analysis)
    if health:
        return
    for instruction in (entrypoint, cmd):
        if instruction is None:
            continue
        script = startup_script(instruction)
        reason = None
        if _relay(script) is not None:
            reason = "relays a log file"
        elif _chain(script):
            reason = "chains several commands"
        elif _shell_script_start(script):
            reason = "starts through a shell script"
        if reason:
            yield Hit(
                instruction.span, f"{instruction.keyword} {reason} and there is no HEALTHCHECK"
            )
            return


@rule(
    "TD402", "Start-up daemonizes or backgrounds the app", Severity.WARNING, "production",
    what="CMD/ENTRYPOINT that starts the app in the background (`&`, `nohup`, `service x start`, "
    "`-d`/`--daemon`) without a foreground process to keep the container alive.",
    why="The container exits when its main process exits, and its logs only reach `docker logs` "
    "if the app is the foreground process writing to stdout/stderr (practice: the app is the "
    "foreground process).",
    example="CMD service postgresql start",
    instead='CMD ["postgres", "-D", "/var/lib/postgresql/data"]',
)  # fmt: skip
def daemonizes(analysis: Analysis) -> Iterator[Hit]:
    entrypoint, cmd, _health = _startup(analysis)
    for instruction in (entrypoint, cmd):
        if instruction is None:
            continue
        script = startup_script(instruction)
        command = _daemonizes(script)
        if command is None:
            for candidate in script.commands:
                args = candidate.args
                if any(
                    _DAEMON_ARGS.match(a) and (args[i + 1 : i + 2] or ("",))[0] not in _DAEMON_OFF
                    for i, a in enumerate(args)
                    if a != "start"
                ) and candidate.name not in ("docker", "tail"):
                    command = candidate
                    break
        if command is None:
            continue
        relay = _relay(script)
        if relay is not None:
            continue  # relayed: TD401/TD403 cover it
        yield Hit(
            command.span or instruction.span,
            f"`{' '.join(command.argv[:4])}` sends the app to the background; the container "
            "has no foreground app process",
        )


@rule(
    "TD403", "Logs relayed from a file", Severity.INFO, "production",
    what="CMD/ENTRYPOINT that keeps the container alive by tailing a log file.",
    why="A relay is the fallback when the app cannot log to stdout; the app itself is then not "
    "supervised by the engine (practice: log to stdout/stderr; if you must relay, add a "
    "HEALTHCHECK).",
    example="CMD app --daemon && tail -F /var/log/app.log",
    instead='CMD ["app", "--foreground", "--log-file=/dev/stdout"]',
)  # fmt: skip
def log_relay(analysis: Analysis) -> Iterator[Hit]:
    entrypoint, cmd, _health = _startup(analysis)
    for instruction in (entrypoint, cmd):
        if instruction is None:
            continue
        relay = _relay(startup_script(instruction))
        if relay is not None:
            yield Hit(
                relay.span or instruction.span, "the container's main process tails a log file"
            )


_LOG_FILE = re.compile(r"\.log$|/var/log/|/logs?/")
_LOG_OPTION = re.compile(r"^--?(log-?file|logfile|log-path|error-log|access-log|log)(=(.*))?$")


@rule(
    "TD404", "Logs written to files in the image", Severity.INFO, "production",
    what="CMD/ENTRYPOINT redirecting output to a file, a `--log-file` option pointing at a file, "
    "or ENV `*LOG*_FILE` set to a path, without linking that file to /dev/stdout.",
    why="Log files grow inside the container's writable layer, are lost with it and are invisible "
    "to `docker logs` and log drivers (practice: log to stdout/stderr).",
    example="CMD app > /var/log/app.log 2>&1",
    instead='CMD ["app"]\n# or: RUN ln -sf /dev/stdout /var/log/app.log',
)  # fmt: skip
def log_files(analysis: Analysis) -> Iterator[Hit]:
    linked: set[str] = set()
    for _facts, _instruction, script in analysis.runs(final_only=True):
        for command in script.named("ln"):
            ops = command.operands
            if len(ops) >= 2 and ops[0] in (
                "/dev/stdout",
                "/dev/stderr",
                "/proc/self/fd/1",
                "/proc/self/fd/2",
            ):
                linked.add(ops[1])
    entrypoint, cmd, _health = _startup(analysis)
    for instruction in (entrypoint, cmd):
        if instruction is None:
            continue
        for command in startup_script(instruction).commands:
            for target in command.redirects:
                if target and not target.startswith("/dev/") and target not in linked:
                    yield Hit(
                        command.span or instruction.span, f"output redirected to the file {target}"
                    )
            args = list(command.args)
            for index, arg in enumerate(args):
                match = _LOG_OPTION.match(arg)
                if not match:
                    continue
                value = (
                    match.group(3)
                    if match.group(2)
                    else (args[index + 1] if index + 1 < len(args) else "")
                )
                if (
                    value
                    and _LOG_FILE.search(value)
                    and not value.startswith("/dev/")
                    and value not in linked
                ):
                    yield Hit(
                        command.span or instruction.span,
                        f"{arg.split('=')[0]} writes logs to {value}",
                    )
    for _facts, instruction in analysis.instructions("ENV", final_only=True):
        values = instruction.values
        for key, value in zip(instruction.args[::2], values[1::2], strict=False):
            name = key.raw.upper()
            path = analysis.word(value)
            if (
                "LOG" in name
                and ("FILE" in name or "PATH" in name)
                and _LOG_FILE.search(path)
                and path not in linked
            ):
                yield Hit(key.span, f"ENV {key.raw} sends logs to {path}")


_ENV_NAMES = re.compile(r"(^|_)(ENV|ENVIRONMENT|MODE|PROFILE|PROFILES_ACTIVE)$")
_NON_PROD = re.compile(r"^(dev|development|debug|test|testing|local|staging)$", re.IGNORECASE)
_DEBUG_NAMES = re.compile(r"^(FLASK_DEBUG|DEBUG|APP_DEBUG|DJANGO_DEBUG|RAILS_DEBUG)$")


@rule(
    "TD405", "Non-production default baked into the image", Severity.INFO, "production",
    what="ENV in the final image setting `*_ENV`/`*_ENVIRONMENT` to development/test, or a "
    "`DEBUG` switch on.",
    why="The image should carry release-level defaults; environments override them at run time. "
    "A development default leaks debug pages and verbose errors if someone forgets to override "
    "it (practice: non-production defaults must be overridden).",
    example="ENV ASPNETCORE_ENVIRONMENT=Development",
    instead="ENV ASPNETCORE_ENVIRONMENT=Production\n# development: docker run -e "
    "ASPNETCORE_ENVIRONMENT=Development ...",
)  # fmt: skip
def non_production(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction in analysis.instructions("ENV", final_only=True):
        args = instruction.args
        for key, value in zip(args[::2], args[1::2], strict=False):
            name = key.raw.upper()
            text = analysis.word(value.raw)
            if _ENV_NAMES.search(name) and _NON_PROD.match(text):
                yield Hit(key.span, f"ENV {key.raw}={text} bakes a non-production default")
            elif _DEBUG_NAMES.match(name) and text.lower() in ("1", "true", "yes", "on"):
                yield Hit(key.span, f"ENV {key.raw}={text} turns debugging on by default")
