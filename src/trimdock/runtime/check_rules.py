"""The `trimdock check` verdicts as rules of the TD registry (TD800-TD813).

Each check keeps its short name (`stop-signal`) as an alias of its id, so `[check] allow`,
`explain` and JSON consumers accept both. The examples are Dockerfiles of images that fail the
check; a leading `# trimdock check ...` comment gives the options the run needs. The engine test
(tests/runtime/test_check_rule_docs.py) builds every example and "instead" and runs them.
"""

from __future__ import annotations

from collections.abc import Mapping

from trimdock.report.finding import Severity
from trimdock.report.rules import RuleInfo

_SERVICE = (
    """CMD ["sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 1 & wait $!; done"]"""
)
# A script in a file (not `sh -c`), so PID 1 is the script's shell, which traps and reaps.
_SCRIPT = (
    "RUN printf '%s\\n' 'trap \"exit 0\" TERM' 'echo ready' \\\n"
    "    'while :; do sleep 1 & wait $!; done' > /run.sh\n"
    'USER 65534\nCMD ["sh", "/run.sh"]'
)


def _info(
    rule_id: str, title: str, severity: Severity, category: str, *, what: str, why: str,
    example: str, instead: str,
) -> RuleInfo:  # fmt: skip
    return RuleInfo(rule_id, title, severity, what, why, example.strip("\n"),
                    instead.strip("\n"), None, category)  # fmt: skip


_INFOS: tuple[tuple[str, RuleInfo], ...] = (
    ("startup", _info(
        "TD800", "Starts and stays up", Severity.ERROR, "production",
        what="The container exits during the check window (or, with --job, exits non-zero or "
        "does not end), or is killed at the memory limit.",
        why="An orchestrator restarts a crashing service in a loop; a job that fails or never "
        "ends holds up the pipeline that waits for it.",
        example='FROM busybox:latest\nUSER 65534\nCMD ["sh", "-c", "echo no config; exit 1"]',
        instead=f"FROM busybox:latest\nUSER 65534\n{_SERVICE}",
    )),
    ("first-log", _info(
        "TD801", "Time to first log line", Severity.WARNING, "production",
        what="Nothing reaches stdout or stderr during the check window; otherwise it reports "
        "the seconds from the start to the first line.",
        why="A silent start cannot be told from a hung one: the first line is how an operator "
        "sees that the app came up, and how long it took.",
        example="FROM busybox:latest\nUSER 65534\n"
        'CMD ["sh", "-c", "trap \'exit 0\' TERM; while :; do sleep 1 & wait $!; done"]',
        instead=f"FROM busybox:latest\nUSER 65534\n{_SERVICE}",
    )),
    ("health", _info(
        "TD802", "Health check passes", Severity.ERROR, "production",
        what="The image has no HEALTHCHECK (warning), or its health check reports unhealthy "
        "(failure) or is still starting at the end; otherwise the seconds to healthy.",
        why="Without a health check the platform only knows the process exists, not that it "
        "serves: `depends_on: service_healthy` and rolling updates need one.",
        example=f"FROM busybox:latest\nUSER 65534\n{_SERVICE}",
        instead="FROM busybox:latest\nUSER 65534\n"
        'HEALTHCHECK --interval=1s CMD ["true"]\n' + _SERVICE,
    )),
    ("stop-signal", _info(
        "TD803", "Stops on SIGTERM", Severity.ERROR, "production",
        what="`docker stop` with the grace period ends the container by SIGKILL (exit code 137) "
        "because the process ignored the stop signal.",
        why="Every deploy and scale-down then waits the full grace period and kills the app "
        "mid-request, without closing connections or flushing data.",
        example="FROM busybox:latest\nUSER 65534\n"
        'CMD ["sh", "-c", "echo ready; while :; do sleep 1; done"]',
        instead=f"FROM busybox:latest\nUSER 65534\n{_SERVICE}",
    )),
    ("pid1", _info(
        "TD804", "PID 1 is the app or an init", Severity.ERROR, "production",
        what="PID 1 leaves an orphaned child a zombie (the probe starts one where the image has "
        "a shell), or is `sh -c` wrapping the app (warning).",
        why="PID 1 inherits every orphan: if it never reaps them the process table fills with "
        "zombies; a wrapping shell does not pass SIGTERM on to the app.",
        example='FROM busybox:latest\nUSER 65534\nCMD ["sleep", "3600"]',
        instead=f"FROM busybox:latest\n{_SCRIPT}",
    )),
    ("logs-stdout", _info(
        "TD805", "Logs reach stdout/stderr", Severity.ERROR, "production",
        what="Nothing at all is written to stdout or stderr during the check.",
        why="The platform collects, ships and rotates what the container prints; logs kept "
        "anywhere else are lost with the container.",
        example="FROM busybox:latest\nUSER 65534\n"
        'CMD ["sh", "-c", "trap \'exit 0\' TERM; while :; do echo hit >> /tmp/app.log; '
        'sleep 1 & wait $!; done"]',
        instead="FROM busybox:latest\nUSER 65534\n"
        'CMD ["sh", "-c", "trap \'exit 0\' TERM; while :; do echo hit; '
        'sleep 1 & wait $!; done"]',
    )),
    ("log-files", _info(
        "TD806", "No log files in the container", Severity.WARNING, "production",
        what="Files that look like logs (`*.log`, anything under /var/log) written in the "
        "container's writable layer, with their sizes after the run.",
        why="Nobody collects them, they grow until the disk is full, and they disappear with "
        "the container when they are needed.",
        example="FROM busybox:latest\nUSER 65534\n"
        'CMD ["sh", "-c", "trap \'exit 0\' TERM; while :; do echo hit >> /tmp/app.log; '
        'sleep 1 & wait $!; done"]',
        instead="FROM busybox:latest\nUSER 65534\n"
        'CMD ["sh", "-c", "trap \'exit 0\' TERM; while :; do echo hit; '
        'sleep 1 & wait $!; done"]',
    )),
    ("user", _info(
        "TD807", "Runs as non-root", Severity.ERROR, "security",
        what="The main process runs as uid 0 (read from the running container, or USER when it "
        "cannot be read).",
        why="A root process turns any code-execution bug into root in the container, one "
        "kernel or runtime flaw away from the host.",
        example=f"FROM busybox:latest\n{_SERVICE}",
        instead=f"FROM busybox:latest\nUSER 65534\n{_SERVICE}",
    )),
    ("read-only", _info(
        "TD808", "Runs with a read-only root", Severity.WARNING, "security",
        what="A second run with `--read-only` and a tmpfs on /tmp does not stay up (or, for a "
        "job, exit 0); it names the paths the first run wrote.",
        why="A read-only root keeps an attacker from dropping tools or changing the app, and "
        "shows every place the app writes state that a restart loses.",
        example="FROM busybox:latest\n"
        'CMD ["sh", "-c", "echo $$ > /app.pid || exit 3; trap \'exit 0\' TERM; '
        'while :; do sleep 1 & wait $!; done"]',
        instead="FROM busybox:latest\n"
        'CMD ["sh", "-c", "echo $$ > /tmp/app.pid || exit 3; trap \'exit 0\' TERM; '
        'while :; do sleep 1 & wait $!; done"]',
    )),
    ("exposed-ports", _info(
        "TD809", "EXPOSEd ports are listened on", Severity.ERROR, "correctness",
        what="A TCP port in EXPOSE does not accept a connection from the host to the "
        "container's address.",
        why="The proxy and the platform route to the declared port: traffic sent there is "
        "refused, and a health check on it fails.",
        example=f"FROM busybox:latest\nUSER 65534\nEXPOSE 8080\n{_SERVICE}",
        instead="FROM busybox:latest\nUSER 65534\nEXPOSE 8080\n"
        'CMD ["sh", "-c", "httpd -p 8080 -h /tmp; trap \'exit 0\' TERM; '
        'while :; do sleep 1 & wait $!; done"]',
    )),
    ("other-ports", _info(
        "TD810", "No undeclared listening port", Severity.WARNING, "security",
        what="The container listens on a TCP port that is not in EXPOSE (loopback-only "
        "sockets are fine).",
        why="An undeclared port is often an admin or debug endpoint: nobody routes, protects "
        "or monitors it, yet it is reachable on the container network.",
        example="FROM busybox:latest\nUSER 65534\n"
        'CMD ["sh", "-c", "httpd -p 9999 -h /tmp; trap \'exit 0\' TERM; '
        'while :; do sleep 1 & wait $!; done"]',
        instead="FROM busybox:latest\nUSER 65534\nEXPOSE 9999\n"
        'CMD ["sh", "-c", "httpd -p 9999 -h /tmp; trap \'exit 0\' TERM; '
        'while :; do sleep 1 & wait $!; done"]',
    )),
    ("env-defaults", _info(
        "TD811", "No secrets or environment-specific ENV defaults", Severity.ERROR, "security",
        what="ENV defaults in the image that look like secrets (failure) or like values of one "
        "environment: hosts, URLs, `*_ENV=development` (warning).",
        why="Configuration comes from the platform: a baked secret is readable by anyone who "
        "pulls the image, and a baked host sends production traffic to a test system.",
        example="FROM busybox:latest\nUSER 65534\n"
        "ENV DATABASE_URL=postgres://app:s3cret@db.internal/app\n" + _SERVICE,
        instead=f"FROM busybox:latest\nUSER 65534\nENV PORT=8080\n{_SERVICE}",
    )),
    ("config-file", _info(
        "TD812", "Starts with a mounted config file", Severity.ERROR, "production",
        what="With `--config-file PATH:DEST`, the app does not start with the host file mounted "
        "read-only at DEST; it also says whether that replaced a file baked in the image.",
        why="The platform mounts configuration read-only from a ConfigMap or secret: an app "
        "that edits its config in place, or needs it writable, fails there.",
        example="# trimdock check --config-file app.conf:/etc/app.conf\n"
        "FROM busybox:latest\nRUN echo level=debug > /etc/app.conf\n"
        'CMD ["sh", "-c", "sed -i s/debug/info/ /etc/app.conf || exit 1; '
        "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done\"]",
        instead="# trimdock check --config-file app.conf:/etc/app.conf\n"
        "FROM busybox:latest\nRUN echo level=debug > /etc/app.conf\n"
        'CMD ["sh", "-c", "cat /etc/app.conf || exit 1; '
        "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done\"]",
    )),
    ("resources", _info(
        "TD813", "Peak memory and CPU", Severity.ERROR, "production",
        what="Peak memory and CPU during the check window: killed at the memory limit "
        "(failure), or above 90% of it (warning).",
        why="An app at its limit when idle is OOM-killed under the first load peak; the "
        "figures are where a resource limit for production starts.",
        example="# trimdock check --memory 16MiB\nFROM busybox:latest\nUSER 65534\n"
        'CMD ["sh", "-c", "x=$(head -c 50000000 /dev/zero | tr \'\\\\0\' a); echo ${#x}"]',
        instead="# trimdock check --memory 16MiB\nFROM busybox:latest\nUSER 65534\n"
        + _SERVICE,
    )),
)  # fmt: skip

CHECK_RULES: Mapping[str, RuleInfo] = {info.rule_id: info for _, info in _INFOS}
# The check's short name -> its id, and back.
RULE_OF: Mapping[str, str] = {name: info.rule_id for name, info in _INFOS}
NAME_OF: Mapping[str, str] = {info.rule_id: name for name, info in _INFOS}


def check_rule_id(name_or_id: str) -> str | None:
    """TD8nn for a check's id (any case) or its short name; None when it is neither."""
    key = name_or_id.strip()
    if key.upper() in CHECK_RULES:
        return key.upper()
    return RULE_OF.get(key.lower())
