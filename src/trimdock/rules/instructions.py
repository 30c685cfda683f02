"""TD6xx: instruction usage hadolint users rely on (each records its DL id when it matches)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from trimdock.dockerfile.model import Instruction
from trimdock.report.finding import Severity
from trimdock.rules.analysis import Analysis
from trimdock.rules.base import Edit, Hit, rule
from trimdock.rules.common import capped_int, command_span
from trimdock.rules.images import parse_image
from trimdock.rules.size import ARCHIVE_RE


@rule(
    "TD602", "cd instead of WORKDIR", Severity.WARNING, "correctness", peer="DL3003",
    what="`cd dir && ...` in a RUN (outside a subshell).",
    why="The directory change is lost at the end of the RUN; WORKDIR states it once, for every "
    "later instruction, and creates the directory.",
    example="RUN cd /app && make",
    instead="WORKDIR /app\nRUN make",
)  # fmt: skip
def cd_workdir(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs():
        for command in script.named("cd"):
            if command.via in ("", "sh -c") and command.operands:
                yield Hit(command_span(command, instruction), "use WORKDIR instead of cd")
                break


@rule(
    "TD603", "Relative WORKDIR", Severity.WARNING, "correctness", peer="DL3000",
    what="WORKDIR with a relative path.",
    why="A relative WORKDIR depends on every earlier WORKDIR (and the base image's): moving one "
    "line changes where files land.",
    example="WORKDIR app",
    instead="WORKDIR /app",
)  # fmt: skip
def relative_workdir(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction in analysis.instructions("WORKDIR"):
        if not instruction.args:
            continue
        path = analysis.word(instruction.args[0].raw)
        if path.startswith(("/", "$")) or re.match(r"^[A-Za-z]:[\\/]", path):
            continue
        yield Hit(instruction.args[0].span, f"WORKDIR {path} is relative")


@rule(
    "TD604", "ADD for local files", Severity.WARNING, "correctness", peer="DL3020",
    what="ADD of local files or folders that are not archives.",
    why="ADD also downloads URLs and unpacks archives; COPY says exactly what happens.",
    example="ADD app/ /app/",
    instead="COPY app/ /app/",
)  # fmt: skip
def add_local(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction in analysis.instructions("ADD"):
        if instruction.heredocs:
            continue
        values = [analysis.word(v) for v in instruction.values]
        sources = values[:-1]
        if not sources:
            continue
        if any("://" in s or s.startswith("git@") or ARCHIVE_RE.search(s) for s in sources):
            continue
        fix: tuple[Edit, ...] = ()
        if instruction.raw_keyword.upper() == "ADD":
            fix = (Edit(instruction.keyword_span, "COPY"),)
        yield Hit(instruction.keyword_span, "use COPY instead of ADD for local files", fix=fix)


@rule(
    "TD605", "Shell form for CMD/ENTRYPOINT", Severity.WARNING, "correctness", peer="DL3025",
    what="CMD or ENTRYPOINT written as a shell string instead of a JSON array.",
    why="In shell form the main process is `/bin/sh`, which does not forward SIGTERM: the app "
    "is killed after the stop timeout instead of shutting down cleanly.",
    example="CMD node server.js",
    instead='CMD ["node", "server.js"]',
)  # fmt: skip
def json_form(analysis: Analysis) -> Iterator[Hit]:
    for keyword in ("CMD", "ENTRYPOINT"):
        for _facts, instruction in analysis.instructions(keyword):
            if instruction.json or not instruction.rest:
                continue
            fix: tuple[Edit, ...] = ()
            words = instruction.rest.split()
            if instruction.rest_span and all(
                re.fullmatch(r"[A-Za-z0-9_./:=@%+,-]+", w) for w in words
            ):
                quoted = ", ".join(f'"{w}"' for w in words)
                fix = (Edit(instruction.rest_span, f"[{quoted}]"),)
            yield Hit(
                instruction.span, f"{keyword} in shell form: use the JSON (exec) form", fix=fix
            )


def _repeated(analysis: Analysis, keyword: str) -> Iterator[Hit]:
    for facts in analysis.stages:
        seen: list[Instruction] = [i for i in facts.stage.instructions if i.keyword == keyword]
        for instruction in seen[1:]:
            yield Hit(
                instruction.span,
                f"{keyword} repeated in this stage (first on line {seen[0].line}); "
                "only the last takes effect",
            )


@rule(
    "TD606", "Multiple CMD", Severity.WARNING, "correctness", peer="DL4003",
    what="More than one CMD in a stage.", why="Only the last CMD takes effect; the others mislead.",
    example='CMD ["a"]\nCMD ["b"]', instead='CMD ["b"]',
)  # fmt: skip
def multiple_cmd(analysis: Analysis) -> Iterator[Hit]:
    yield from _repeated(analysis, "CMD")


@rule(
    "TD607", "Multiple ENTRYPOINT", Severity.ERROR, "correctness", peer="DL4004",
    what="More than one ENTRYPOINT in a stage.", why="Only the last ENTRYPOINT takes effect.",
    example='ENTRYPOINT ["a"]\nENTRYPOINT ["b"]', instead='ENTRYPOINT ["b"]',
)  # fmt: skip
def multiple_entrypoint(analysis: Analysis) -> Iterator[Hit]:
    yield from _repeated(analysis, "ENTRYPOINT")


@rule(
    "TD608", "Multiple HEALTHCHECK", Severity.ERROR, "correctness", peer="DL3012",
    what="More than one HEALTHCHECK in a stage.", why="Only the last HEALTHCHECK takes effect.",
    example="HEALTHCHECK CMD a\nHEALTHCHECK CMD b", instead="HEALTHCHECK CMD b",
)  # fmt: skip
def multiple_healthcheck(analysis: Analysis) -> Iterator[Hit]:
    yield from _repeated(analysis, "HEALTHCHECK")


@rule(
    "TD609", "Duplicate stage name", Severity.ERROR, "correctness", peer="DL3024",
    what="Two stages with the same name (case-insensitive).",
    why="BuildKit rejects the file; with older builders `--from=name` picks an unexpected stage.",
    example="FROM golang:1.22 AS build\nFROM node:20 AS build",
    instead="FROM golang:1.22 AS build-go\nFROM node:20 AS build-web",
)  # fmt: skip
def duplicate_stage(analysis: Analysis) -> Iterator[Hit]:
    seen: dict[str, int] = {}
    for facts in analysis.stages:
        name = facts.stage.name
        if name is None:
            continue
        if name.lower() in seen:
            yield Hit(
                facts.stage.from_instruction.span,
                f"stage name {name} already used on line {seen[name.lower()]}",
            )
        else:
            seen[name.lower()] = facts.stage.line


def _copy_froms(analysis: Analysis) -> Iterator[tuple[int, Instruction, str]]:
    for facts in analysis.stages:
        for instruction in facts.stage.instructions:
            if instruction.keyword == "COPY" and instruction.flag("from"):
                flag = instruction.flag("from")
                assert flag is not None
                yield facts.stage.index, instruction, flag.value or ""


@rule(
    "TD610", "COPY --from its own stage", Severity.ERROR, "correctness", peer="DL3023",
    what="`COPY --from=X` inside stage X itself.",
    why="A stage cannot copy from itself; the build fails.",
    example="FROM golang:1.22 AS build\nCOPY --from=build /out /out",
    instead="FROM golang:1.22 AS build\n...\nFROM alpine:3.19\nCOPY --from=build /out /out",
)  # fmt: skip
def copy_from_self(analysis: Analysis) -> Iterator[Hit]:
    for index, instruction, source in _copy_froms(analysis):
        stage = analysis.dockerfile.stages[index]
        if (stage.name and source.lower() == stage.name.lower()) or source == str(index):
            yield Hit(instruction.span, f"COPY --from={source} refers to its own stage")


@rule(
    "TD611", "COPY --from an unknown stage", Severity.WARNING, "correctness", peer="DL3022",
    what="`COPY --from=name` where no earlier stage has that name and the name does not look "
    "like an image reference, or a stage index that does not exist yet.",
    why="Usually a typo in the stage name; BuildKit then tries to pull an image called `name`.",
    example="FROM golang:1.22 AS build\nFROM alpine:3.19\nCOPY --from=biuld /out /out",
    instead="FROM golang:1.22 AS build\nFROM alpine:3.19\nCOPY --from=build /out /out",
)  # fmt: skip
def copy_from_unknown(analysis: Analysis) -> Iterator[Hit]:
    for index, instruction, source in _copy_froms(analysis):
        if "$" in source:
            continue
        if source.isascii() and source.isdigit():
            if capped_int(source, index) >= index:
                yield Hit(
                    instruction.span, f"COPY --from={source}: no earlier stage with that index"
                )
            continue
        # The first stage of that name, looked up in an index: a set of the earlier names per
        # COPY made 8k stages each copying from the previous one quadratic.
        named = analysis.dockerfile.stage_by_name(source)
        if named is not None and named.index < index:
            continue
        if any(ch in source for ch in ":/@."):
            continue  # an image reference
        yield Hit(instruction.span, f"COPY --from={source}: no earlier stage is named {source}")


@rule(
    "TD612", "Invalid EXPOSE port", Severity.ERROR, "correctness", peer="DL3011",
    what="EXPOSE with a port outside 0-65535 or an unknown protocol.",
    why="The build fails or the port mapping is silently wrong.",
    example="EXPOSE 80000", instead="EXPOSE 8000",
)  # fmt: skip
def expose_port(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction in analysis.instructions("EXPOSE"):
        for word in instruction.args:
            text = analysis.word(word.raw)
            if "$" in word.raw:
                continue
            port, _, proto = text.partition("/")
            parts = port.split("-")
            valid = len(parts) <= 2 and all(
                p.isascii() and p.isdigit() and capped_int(p, 65536) <= 65535 for p in parts
            )
            if not valid or proto.lower() not in ("", "tcp", "udp", "sctp"):
                yield Hit(word.span, f"invalid port {text}")


@rule(
    "TD613", "MAINTAINER is deprecated", Severity.STYLE, "style", peer="DL4000",
    what="The MAINTAINER instruction.", why="Deprecated; a label is searchable and standard.",
    example="MAINTAINER Jane <jane@example.com>",
    instead='LABEL org.opencontainers.image.authors="Jane <jane@example.com>"',
)  # fmt: skip
def maintainer(analysis: Analysis) -> Iterator[Hit]:
    for instruction in analysis.dockerfile.instructions:
        if instruction.keyword == "MAINTAINER":
            authors = instruction.rest.replace('"', "")
            label = f'LABEL org.opencontainers.image.authors="{authors}"'
            fix = (Edit(instruction.span, label),)
            yield Hit(instruction.keyword_span, "MAINTAINER is deprecated", fix=fix)


_ASH_BASES = re.compile(r"(^|/)(alpine|busybox)(:|$)")


@rule(
    "TD614", "Pipe without pipefail", Severity.WARNING, "correctness", peer="DL4006",
    what="A RUN with a pipe (`curl ... | tar`) whose shell does not set `pipefail`.",
    why="Without pipefail only the last command's status counts: a failed download piped into "
    "`tar` or `sh` still 'succeeds' and the build goes on with a broken layer.",
    example="RUN curl -fsSL https://example.com/x.tar.gz | tar -xz",
    instead='SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl -fsSL ... | tar -xz\n'
    "# busybox/alpine (ash has pipefail, not bash): RUN set -o pipefail && curl ... | tar -xz",
)  # fmt: skip
def pipefail(analysis: Analysis) -> Iterator[Hit]:
    for facts in analysis.stages:
        base = analysis.stages[facts.root].stage.resolved_base
        ash = bool(_ASH_BASES.search(parse_image(base).repository if base else ""))
        for position, instruction in enumerate(facts.stage.instructions):
            if instruction.keyword != "RUN" or instruction.json:
                continue
            shell = facts.shell[position]
            if any("pipefail" in part for part in shell):
                continue
            if shell and shell[0].rsplit("/", 1)[-1].lower() not in (
                "sh",
                "bash",
                "ash",
                "zsh",
                "ksh",
                "dash",
            ):
                continue
            script = analysis.script(instruction, shell)
            if not script.has_pipe:
                continue
            if any(
                c.name == "set"
                and (
                    "pipefail" in c.args
                    or any(a.startswith("-") and "o" in a and "pipefail" in c.args for a in c.args)
                )
                for c in script.commands
            ):
                continue
            if "pipefail" in instruction.rest:
                continue
            advice = (
                "start the RUN with `set -o pipefail &&` (busybox ash supports it)"
                if ash
                else 'set SHELL ["/bin/bash", "-o", "pipefail", "-c"] '
                "or start with `set -o pipefail &&`"
            )
            yield Hit(instruction.keyword_span, f"pipe without pipefail: {advice}")


@rule(
    "TD615", "useradd without -l and a high UID", Severity.WARNING, "size", peer="DL3046",
    what="`useradd` with a large `-u`/`--uid` but without `-l`/`--no-log-init`.",
    why="useradd writes a sparse entry in /var/log/lastlog and faillog sized by the UID: a UID "
    "like 100000000 makes a multi-GB layer.",
    example="RUN useradd -u 123456789 app",
    instead="RUN useradd -l -u 123456789 app",
)  # fmt: skip
def useradd_uid(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs():
        for command in script.named("useradd"):
            args = list(command.args)
            uid = None
            for index, arg in enumerate(args):
                if arg in ("-u", "--uid") and index + 1 < len(args):
                    uid = args[index + 1]
                elif arg.startswith("--uid="):
                    uid = arg.split("=", 1)[1]
            if (
                uid
                and uid.isascii()
                and uid.isdigit()
                and capped_int(uid, 100000) > 99999
                and not command.has_flag("-l", "--no-log-init")
            ):
                yield Hit(command_span(command, instruction), f"useradd -u {uid} without -l")


@rule(
    "TD620", "Both wget and curl", Severity.STYLE, "size", peer="DL4001",
    what="wget and curl both used in the Dockerfile.",
    why="Two download tools where one would do: more bytes and more attack surface.",
    example="RUN wget -q https://a/x\nRUN curl -fsSLO https://b/y",
    instead="RUN curl -fsSLO https://a/x && curl -fsSLO https://b/y",
)  # fmt: skip
def wget_and_curl(analysis: Analysis) -> Iterator[Hit]:
    wget = curl = None
    for _facts, instruction, script in analysis.runs():
        for command in script.commands:
            if command.name == "wget" and wget is None:
                wget = (command, instruction)
            elif command.name == "curl" and curl is None:
                curl = (command, instruction)
    if wget and curl:
        later = max((wget, curl), key=lambda pair: pair[1].line)
        yield Hit(command_span(*later), "both wget and curl are used: pick one")


@rule(
    "TD621", "COPY of several sources to a non-directory", Severity.ERROR, "correctness",
    peer="DL3021",
    what="COPY/ADD with more than one source whose destination does not end with `/`.",
    why="The builder fails: several sources need a directory destination.",
    example="COPY a.txt b.txt /dest", instead="COPY a.txt b.txt /dest/",
)  # fmt: skip
def copy_many(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction in analysis.instructions():
        if instruction.keyword not in ("COPY", "ADD") or instruction.heredocs:
            continue
        values = [analysis.word(v) for v in instruction.values]
        if len(values) > 2 and not values[-1].endswith("/") and "$" not in values[-1]:
            span = instruction.args[-1].span
            yield Hit(
                span,
                "several sources need a destination ending in /",
                fix=(Edit(span, instruction.args[-1].raw + "/"),),
            )


@rule(
    "TD622", "ENV refers to a variable it defines", Severity.ERROR, "correctness", peer="DL3044",
    what="An ENV that uses `$NAME` where NAME is defined earlier in the same ENV instruction.",
    why="All values are substituted before any is set, so the reference sees the old value.",
    example="ENV A=1 B=$A", instead="ENV A=1\nENV B=$A",
)  # fmt: skip
def env_self_reference(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction in analysis.instructions("ENV"):
        defined: set[str] = set()
        args = instruction.args
        for key, value in zip(args[::2], args[1::2], strict=False):
            for name in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", value.raw):
                if name in defined:
                    yield Hit(value.span, f"${name} is defined in this same ENV")
            defined.add(key.raw)


_POINTLESS = {"ssh", "vim", "shutdown", "service", "ps", "free", "top", "kill", "mount",
              "ifconfig", "nano", "systemctl"}  # fmt: skip


@rule(
    "TD625", "Command that makes no sense in a build", Severity.INFO, "correctness", peer="DL3001",
    what="RUN of interactive or system commands (`ssh`, `vim`, `service`, `systemctl`, `top`, "
    "`shutdown`, `mount`, ...).",
    why="There is no init system, terminal or running service during a build; these either fail "
    "or do nothing.",
    example="RUN service nginx restart",
    instead="# configure files in RUN; start the service with CMD",
)  # fmt: skip
def pointless(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs():
        for command in script.commands:
            if command.name in _POINTLESS and command.via != "substitution":
                yield Hit(
                    command_span(command, instruction),
                    f"`{command.name}` makes no sense in a build",
                )
                break


@rule(
    "TD626", "COPY to a relative path without WORKDIR", Severity.WARNING, "correctness",
    peer="DL3045",
    what="COPY to a relative destination in a stage that has not set WORKDIR.",
    why="The destination then depends on the base image's working directory, which you do not "
    "control.",
    example="FROM node:20-slim\nCOPY package.json .",
    instead="FROM node:20-slim\nWORKDIR /app\nCOPY package.json .",
)  # fmt: skip
def copy_relative(analysis: Analysis) -> Iterator[Hit]:
    for facts in analysis.stages:
        has_workdir = facts.stage.parent_stage is not None and any(
            i.keyword == "WORKDIR"
            for i in analysis.stages[facts.stage.parent_stage].stage.instructions
        )
        for instruction in facts.stage.instructions:
            if instruction.keyword == "WORKDIR":
                has_workdir = True
            if instruction.keyword != "COPY" or has_workdir or instruction.heredocs:
                continue
            values = [analysis.word(v) for v in instruction.values]
            if len(values) >= 2:
                dest = values[-1]
                if not dest.startswith(("/", "$")) and not re.match(r"^[A-Za-z]:", dest):
                    yield Hit(instruction.args[-1].span, f"COPY to relative {dest} without WORKDIR")


@rule(
    "TD627", "Shell changed by symlink instead of SHELL", Severity.WARNING, "correctness",
    peer="DL4005",
    what="`ln -s` over /bin/sh in a RUN.",
    why="Replacing /bin/sh changes every script in the image; SHELL changes only the build's "
    "RUN instructions.",
    example="RUN ln -sf /bin/bash /bin/sh",
    instead='SHELL ["/bin/bash", "-c"]',
)  # fmt: skip
def shell_symlink(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs():
        for command in script.named("ln"):
            if command.operands[-1:] == ("/bin/sh",):
                yield Hit(
                    command_span(command, instruction), "use SHELL to change the default shell"
                )


@rule(
    "TD628", "wget without progress control", Severity.STYLE, "style", peer="DL3047",
    what="`wget` without `-q`, `-nv` or `--progress`.",
    why="The progress bar floods the build log with thousands of lines.",
    example="RUN wget https://example.com/x.tar.gz",
    instead="RUN wget -q https://example.com/x.tar.gz",
)  # fmt: skip
def wget_progress(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs():
        for command in script.named("wget"):
            if not command.has_flag("-q", "--quiet", "-nv", "--no-verbose", "--progress"):
                yield Hit(
                    command_span(command, instruction), "wget without -q/--progress floods the log"
                )
