"""TD1xx size: what reaches the final image and should not (multi-stage aware)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from trimdock.dockerfile.model import Instruction
from trimdock.dockerfile.shell import Command, Script
from trimdock.report.finding import Severity
from trimdock.rules.analysis import Analysis, StageFacts
from trimdock.rules.base import Hit, rule
from trimdock.rules.common import command_span, installs, operands
from trimdock.rules.images import is_sdk, parse_image, slim_variant

ARCHIVE_RE = re.compile(
    r"\.(tar(\.(gz|bz2|xz|zst|lz4))?|tgz|tbz2?|txz|zip|7z|rar|jar\.zip|deb|rpm|apk|gz|xz|bz2)$"
)


def _copy_sources(analysis: Analysis, instruction: Instruction) -> tuple[list[str], str]:
    values = [analysis.word(v) for v in instruction.values if not v.startswith("<<")]
    if instruction.heredocs:
        return [], values[-1] if values else ""
    if len(values) < 2:
        return [], ""
    return values[:-1], values[-1]


def _resolve(workdir: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(workdir, path)) if path else workdir


# --- TD101 whole-context COPY -------------------------------------------------------------------


@rule(
    "TD101", "Whole build context copied into the final image", Severity.WARNING, "size",
    what="`COPY . .` (or `ADD .`, `COPY ./ /app`) in a stage that reaches the final image.",
    why="Everything in the context ships: docs, tests, `.git`, local build output, the "
    "Dockerfile itself. Deleting it later saves nothing. A builder stage may copy everything; "
    "the runtime stage should copy only what the app needs (practice: be explicit in COPY).",
    example="FROM busybox:latest\nWORKDIR /app\nCOPY . .",
    instead="COPY app/ ./app/\n# and a .dockerignore that keeps docs/, tests/ and .git out",
)  # fmt: skip
def whole_context(analysis: Analysis) -> Iterator[Hit]:
    context = analysis.options.context
    for _facts, instruction in analysis.instructions(final_only=True, triggers=False):
        if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from"):
            continue
        sources, _dest = _copy_sources(analysis, instruction)
        whole = [s for s in sources if s.rstrip("/") in (".", "", "./*", "*") or s == "./"]
        if not whole:
            continue
        message = (
            f"{instruction.keyword} {whole[0]} copies the whole build context into the final image"
        )
        evidence: tuple[tuple[str, object], ...] = ()
        if context is not None:
            if context.has_dockerignore:
                message += " (a .dockerignore filters it)"
            if context.top_entries:
                largest = ", ".join(f"{n} ({b} bytes)" for n, b in context.top_entries[:3])
                message += f"; largest entries: {largest}"
                evidence = (("largest_entries", [list(e) for e in context.top_entries]),)
        yield Hit(instruction.span, message, evidence=evidence)


# --- TD102 delete in a later layer ------------------------------------------------------------


@dataclass(frozen=True)
class _Created:
    path: str
    line: int
    how: str  # "copy", "extract", "download", "package-cache", "create"
    keyword: str


_CACHE_CREATORS = {
    ("apt", "update"): "/var/lib/apt/lists",
    ("apt", "install"): "/var/cache/apt",
    ("pip", "install"): "/root/.cache/pip",
    ("apk", "add"): "/var/cache/apk",
    ("npm", "install"): "/root/.npm",
    ("npm", "ci"): "/root/.npm",
}


def _created_by_run(script: Script, workdir: str, line: int) -> Iterator[_Created]:
    cwd = workdir
    for command in script.commands:
        name = command.name
        if command.via == "substitution":
            continue
        if name == "cd":
            ops = command.operands
            cwd = _resolve(cwd, ops[0]) if ops else "/root"
            continue
        if name == "mkdir":
            for op in command.operands:
                yield _Created(_resolve(cwd, op), line, "mkdir", "RUN")
        elif name == "tar" and _tar_extracts(command):
            target = _option_value(command, ("-C", "--directory")) or cwd
            yield _Created(_resolve(cwd, target), line, "extract", "RUN")
        elif name == "unzip":
            target = _option_value(command, ("-d",)) or cwd
            yield _Created(_resolve(cwd, target), line, "extract", "RUN")
        elif name in ("wget", "curl"):
            out = _option_value(command, ("-O", "-o", "--output", "--output-document"))
            if out and out != "-":
                yield _Created(_resolve(cwd, out), line, "download", "RUN")
            elif name == "wget":
                directory = _option_value(command, ("-P", "--directory-prefix")) or cwd
                for url in command.operands:
                    if "://" in url:
                        yield _Created(
                            _resolve(directory, url.rsplit("/", 1)[-1]), line, "download", "RUN"
                        )
        elif name == "git" and command.operands[:1] == ("clone",):
            ops = command.operands[1:]
            if len(ops) >= 2:
                yield _Created(_resolve(cwd, ops[1]), line, "create", "RUN")
            elif ops:
                yield _Created(
                    _resolve(cwd, ops[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")),
                    line,
                    "create",
                    "RUN",
                )
        elif name in ("cp", "mv") and len(command.operands) >= 2:
            yield _Created(_resolve(cwd, command.operands[-1]), line, "create", "RUN")
        for target in command.redirects:
            if target and not target.startswith("/dev/"):
                yield _Created(_resolve(cwd, target), line, "create", "RUN")
    for item in installs(script):
        key = "install" if item.tool != "npm" else item.command.subcommand()
        path = _CACHE_CREATORS.get((item.tool, key))
        if item.tool == "apk" and item.command.has_flag("--no-cache"):
            path = None
        if item.tool == "pip" and item.command.has_flag("--no-cache-dir"):
            path = None
        if path:
            yield _Created(path, line, "package-cache", "RUN")
    for command in script.named("apt-get", "apt"):
        if command.subcommand() == "update":
            yield _Created("/var/lib/apt/lists", line, "package-cache", "RUN")


def _tar_extracts(command: Command) -> bool:
    first = command.args[0] if command.args else ""
    if first and not first.startswith("-") and "x" in first:
        return True
    return command.has_flag("-x", "--extract", "--get")


def _option_value(command: Command, names: tuple[str, ...]) -> str | None:
    args = command.args
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                return args[index + 1]
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
            if not name.startswith("--") and arg.startswith(name) and len(arg) > len(name):
                return arg[len(name) :]
            short = not name.startswith("--") and arg.startswith("-") and not arg.startswith("--")
            if short and len(arg) > 2 and arg.endswith(name[1]) and index + 1 < len(args):
                return args[index + 1]  # a group such as -fsSLo FILE
    return None


# Top-level folders of the base image's filesystem. A copy or create into `/` cannot have made
# these (they come from the base), while anything else at the top level (`/docs` after a
# `COPY . .` with no WORKDIR) can only have come from that copy or a later step.
_SYSTEM_TOP = frozenset({
    "bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "media", "mnt", "opt",
    "proc", "root", "run", "sbin", "srv", "sys", "tmp", "usr", "var",
})  # fmt: skip


def _overlaps(removed: str, created: str, how: str = "") -> bool:
    if how == "mkdir":
        # An empty directory: deleting what was later put inside it is not this layer's bytes.
        return removed == created or created.startswith(removed + "/")
    if created == "/":
        top = removed.strip("/").split("/", 1)[0]
        return bool(top) and top not in _SYSTEM_TOP
    return (
        removed == created or removed.startswith(created + "/") or created.startswith(removed + "/")
    )


def _removal_target(operand: str, cwd: str) -> str:
    cleaned = re.sub(r"/\*+$", "", operand)
    cleaned = cleaned.rstrip("/") or "/"
    if any(ch in cleaned for ch in "*?["):
        cleaned = cleaned.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0]
        cleaned = cleaned.rsplit("/", 1)[0] if "/" in cleaned else cleaned
    return _resolve(cwd, cleaned)


_PRIORITY = {
    "extract": 0,
    "download": 1,
    "package-cache": 2,
    "copy": 3,
    "create": 4,
    "mkdir": 5,
}

_ADVICE = {
    "copy": "keep it out of the COPY (explicit sources or .dockerignore)",
    "extract": "extract only what you need, in the same RUN",
    "download": "download, use and delete in one RUN (or use a builder stage)",
    "package-cache": "clean the cache in the same RUN that fills it",
    "create": "create and delete it in the same RUN, or in a builder stage",
    "mkdir": "create and delete it in the same RUN, or in a builder stage",
}


@rule(
    "TD102", "Deleting in a later layer saves nothing", Severity.WARNING, "size",
    what="A `RUN rm` of files that an earlier instruction (COPY, ADD, or an earlier RUN) put in "
    "the image. Both lines are named.",
    why="Layers only add: the bytes stay in the earlier layer and every pull downloads them; the "
    "later `rm` only hides them (practice: optimise each layer; delete in the same RUN).",
    example="COPY . .\nRUN rm -rf docs\n\n"
    "RUN tar -xzf sdk.tar.gz -C /opt\nRUN rm -rf /opt/sdk/docs",
    instead="COPY app/ ./app/\n\nRUN tar -xzf sdk.tar.gz -C /opt sdk/bin/tool && rm sdk.tar.gz",
)  # fmt: skip
def delete_later(analysis: Analysis) -> Iterator[Hit]:
    created: list[_Created] = []
    for facts in analysis.final_stages:
        for position, instruction in enumerate(facts.stage.instructions):
            workdir = facts.workdirs[position]
            if instruction.keyword in ("COPY", "ADD"):
                sources, dest = _copy_sources(analysis, instruction)
                if dest:
                    created.extend(
                        _Created(path, instruction.line, "copy", instruction.keyword)
                        for path in _copied_paths(sources, dest, workdir)
                    )
                continue
            if instruction.keyword != "RUN":
                continue
            script = analysis.script(instruction, facts.shell[position])
            yield from _late_removals(script, instruction, workdir, created)
            created.extend(_created_by_run(script, workdir, instruction.line))


def _file_like(source: str) -> bool:
    """A source that names one file (`app.py`, `package.json`): copied under its own name.

    A directory source copies its *contents* into the destination, so only names with an
    extension are taken as files; anything else may fill the whole destination.
    """
    base = source.rstrip("/").rsplit("/", 1)[-1]
    return not source.endswith("/") and "." in base[1:] and not any(ch in base for ch in "*?[$")


def _copied_paths(sources: list[str], dest: str, workdir: str) -> list[str]:
    """The paths a COPY/ADD may have filled ("/" for a whole-context copy into the root)."""
    target = _resolve(workdir, dest)
    whole = any(source in (".", "./") for source in sources)
    into_directory = dest.endswith("/") or dest in (".", "..") or len(sources) > 1
    if whole or not into_directory:
        return [target]
    paths: list[str] = []
    for source in sources:
        base = source.rstrip("/").rsplit("/", 1)[-1]
        if _file_like(source) or target == "/":
            paths.append(_resolve(target, base))
        else:
            paths.append(target)
    return paths


def _literal_directory(command: Command) -> str | None:
    """Where a top-level `cd` goes when that is known from the text alone."""
    if command.via or command.in_pipeline or command.background:
        return None  # a subshell's or pipeline's cd does not move the commands after it
    args = command.args
    if not args:
        return "/root"
    target = args[0]
    if len(args) > 1 or target.startswith(("-", "~")) or any(c in target for c in "$`*?["):
        return None  # options, `cd -`, variables and globs: not known here
    return target


def _late_removals(
    script: Script, instruction: Instruction, workdir: str, created: list[_Created]
) -> Iterator[Hit]:
    if not script.has("rm"):
        return
    cwd = workdir
    uncertain = False
    consumed = {op for c in script.commands if c.name not in ("rm", "cd") for op in c.args}
    for command in script.commands:
        if command.name == "cd":
            directory = _literal_directory(command)
            if directory is None:
                uncertain = True
            elif not uncertain:
                cwd = _resolve(cwd, directory)
            continue
        if command.name != "rm":
            continue
        for operand in command.operands:
            if uncertain and not operand.startswith("/"):
                continue
            target = _removal_target(operand, cwd)
            candidates = [c for c in created if _overlaps(target, c.path, c.how)]
            if not candidates:
                continue
            # The most telling creator: an extraction or download beats a bare mkdir.
            match = min(candidates, key=lambda c: (_PRIORITY[c.how], -len(c.path)))
            severity = None
            advice = _ADVICE[match.how]
            if (
                match.how == "copy"
                and match.path == target
                and any(target == _resolve(cwd, a) for a in consumed)
            ):
                # The RUN uses the copied file and removes it: only the copied bytes are wasted.
                severity = Severity.INFO
                advice = "use RUN --mount=type=bind for an input used once, or a builder stage"
            yield Hit(
                command_span(command, instruction),
                f"`rm {operand}` (line {instruction.line}) deletes {target}, which line "
                f"{match.line} ({match.keyword}) put in an earlier layer: the bytes still ship; "
                f"{advice}",
                evidence=(
                    ("deleted", target),
                    ("created_line", match.line),
                    ("deleted_line", instruction.line),
                    ("created_by", match.how),
                ),
                severity=severity,
            )


# --- archives ---------------------------------------------------------------------------------


def _final_runs(analysis: Analysis) -> Iterator[tuple[StageFacts, Instruction, Script, str]]:
    for facts in analysis.final_stages:
        for position, instruction in enumerate(facts.stage.instructions):
            if instruction.keyword == "RUN":
                script = analysis.script(instruction, facts.shell[position])
                yield facts, instruction, script, facts.workdirs[position]


@rule(
    "TD114", "Downloaded archive left in the layer", Severity.WARNING, "size",
    what="A `curl -o`/`wget` of an archive (`.tar.gz`, `.zip`, `.deb`, ...) in a stage reaching "
    "the final image, not removed in the same RUN.",
    why="The archive ships next to its extracted content; deleting it in a later RUN saves "
    "nothing (practice: download, extract and delete in one RUN).",
    example="RUN curl -fsSLo /tmp/tool.tar.gz https://example.com/tool.tar.gz \\\n"
    "    && tar -xzf /tmp/tool.tar.gz -C /opt",
    instead="RUN curl -fsSL https://example.com/tool.tar.gz | tar -xz -C /opt tool/bin/tool",
)  # fmt: skip
def archive_left(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script, workdir in _final_runs(analysis):
        downloads = [
            c for c in _created_by_run(script, workdir, instruction.line) if c.how == "download"
        ]
        if not downloads:
            continue
        removed = [_removal_target(op, workdir) for c in script.named("rm") for op in c.operands]
        for item in downloads:
            if not ARCHIVE_RE.search(item.path):
                continue
            if any(_overlaps(r, item.path) for r in removed):
                continue
            yield Hit(
                instruction.span, f"downloaded archive {item.path} is not removed in the same RUN"
            )


@rule(
    "TD115", "ADD of a remote URL", Severity.WARNING, "size",
    what="`ADD https://...` in a stage reaching the final image.",
    why="The downloaded file becomes its own layer and cannot be deleted in the same step; "
    "remote ADD also bypasses the build cache checks you expect (practice: download, extract "
    "and delete in one RUN).",
    example="ADD https://example.com/tool.tar.gz /tmp/",
    instead="RUN curl -fsSL https://example.com/tool.tar.gz | tar -xz -C /opt tool/bin/tool",
)  # fmt: skip
def add_url(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction in analysis.instructions("ADD", final_only=True):
        sources, _dest = _copy_sources(analysis, instruction)
        for source in sources:
            if re.match(r"^[a-z][a-z0-9+.-]*://", source) and not source.startswith("git@"):
                if ".git" in source.rsplit("/", 1)[-1] or instruction.flag("keep-git-dir"):
                    continue
                yield Hit(instruction.span, f"ADD downloads {source} into its own layer")


# --- layers -----------------------------------------------------------------------------------


@rule(
    "TD116", "Consecutive single-command RUN instructions", Severity.INFO, "size", peer="DL3059",
    what="A RUN of one command directly after another RUN of one command (same flags) in a stage "
    "reaching the final image; comments between them do not separate them.",
    why="Each RUN is a layer: files created in one and removed in the next still ship, and "
    "images are limited to about 127 layers (practice: merge RUNs once the build works). RUNs "
    "that already chain several commands are separate steps on purpose (cache boundaries) and "
    "are not reported, as hadolint does.",
    example="RUN mkdir -p /app\nRUN ln -s /opt/tool/bin/tool /usr/local/bin/tool",
    instead="RUN mkdir -p /app \\\n    && ln -s /opt/tool/bin/tool /usr/local/bin/tool",
)  # fmt: skip
def consecutive_runs(analysis: Analysis) -> Iterator[Hit]:
    for facts in analysis.final_stages:
        previous: Instruction | None = None
        for position, instruction in enumerate(facts.stage.instructions):
            single = (
                instruction.keyword == "RUN"
                and _top_level_commands(analysis.script(instruction, facts.shell[position])) == 1
            )
            if (
                single
                and previous is not None
                and _flag_pairs(previous) == _flag_pairs(instruction)
            ):
                yield Hit(
                    instruction.keyword_span,
                    f"RUN directly after the RUN on line {previous.line}, one command each: "
                    "consider one RUN",
                )
            previous = instruction if single else None


def _flag_pairs(instruction: Instruction) -> tuple[tuple[str, str | None], ...]:
    return tuple((flag.name, flag.value) for flag in instruction.flags)


def _top_level_commands(script: Script) -> int:
    """Commands as written (pipelines count each part; `sh -c` bodies and wrappers do not)."""
    return sum(1 for command in script.commands if not command.via)


# --- SDKs and build tools in the runtime image --------------------------------------------------


def _chain_root(analysis: Analysis) -> StageFacts | None:
    final = analysis.final
    if final is None:
        return None
    return analysis.stages[final.root]


@rule(
    "TD117", "SDK base image in the final stage", Severity.WARNING, "size",
    what="The final stage is built FROM a compiler/SDK image (`golang`, `maven`, `*jdk*`, "
    "`gcc`, `dotnet/sdk`, ...).",
    why="The runtime image should run the app, not build it: an SDK is hundreds of MB and gives "
    "an attacker compilers (practice: multi-stage; SDK in the builder, runtime base last).",
    example="FROM maven:3-eclipse-temurin-21\nCOPY . .\nRUN mvn package\n"
    'CMD ["java", "-jar", "target/app.jar"]',
    instead="FROM maven:3-eclipse-temurin-21 AS build\nCOPY . .\nRUN mvn package\n\n"
    "FROM eclipse-temurin:21-jre\nCOPY --from=build /target/app.jar /app.jar",
)  # fmt: skip
def sdk_final(analysis: Analysis) -> Iterator[Hit]:
    root = _chain_root(analysis)
    if root is None or "$" in root.stage.resolved_base:
        return
    ref = parse_image(root.stage.resolved_base)
    if is_sdk(ref):
        final = analysis.final
        assert final is not None
        yield Hit(
            final.stage.from_instruction.span,
            f"the final image is based on {root.stage.resolved_base}, an SDK/compiler image",
        )


_BUILD_PACKAGES = re.compile(
    r"^(build-essential|build-base|gcc|g\+\+|gcc-c\+\+|clang|make|cmake|autoconf|automake|"
    r"libtool|pkg-config|pkgconf|golang|golang-go|maven|gradle|openjdk-\d+-jdk(-headless)?|"
    r"default-jdk|rustc|cargo|[a-z0-9.+-]+-dev|[a-z0-9.+-]+-devel)([=~<>].*)?$"
)


@rule(
    "TD118", "Build tools installed in the final stage", Severity.WARNING, "size",
    what="Compilers, `-dev` headers or build systems installed by a RUN in a stage that reaches "
    "the final image and not removed in that RUN.",
    why="Build tools are dead weight at run time and useful to an attacker (practice: the "
    "runtime image runs the app; it does not build it).",
    example="RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev",
    instead="# compile in a builder stage, then:\nCOPY --from=build /out/app /usr/local/bin/app",
)  # fmt: skip
def build_tools(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs(final_only=True):
        removed = {
            op
            for c in script.commands
            if c.name in ("apt-get", "apk", "yum", "dnf", "apt")
            for op in operands(c, "apt")[1:]
            if operands(c, "apt")[:1] in (("purge",), ("remove",), ("del",), ("autoremove",))
        }
        for item in installs(script):
            if item.tool not in ("apt", "apk", "yum", "dnf", "zypper"):
                continue
            tools = [p for p in item.packages if _BUILD_PACKAGES.match(p) and p not in removed]
            if item.tool == "apk" and item.command.has_flag("--virtual", "-t"):
                continue  # a virtual package is normally deleted (`apk del`) later
            if tools:
                yield Hit(
                    command_span(item.command, instruction),
                    f"build tools in the final image: {', '.join(tools[:5])}",
                    evidence=(("packages", tools),),
                )


_COMPILE = (
    ("make", None), ("gcc", None), ("g++", None), ("cc", None), ("javac", None),
    ("go", "build"), ("mvn", "package"), ("mvn", "install"), ("mvn", "verify"),
    ("gradle", "build"), ("./gradlew", "build"), ("cargo", "build"), ("dotnet", "publish"),
    ("dotnet", "build"), ("npm", "run"),
)  # fmt: skip
# (name as written, name without its path, subcommand), computed once, not per command.
_COMPILE_NAMES = tuple((name, name.lstrip("./"), sub) for name, sub in _COMPILE)


@rule(
    "TD119", "Single-stage build compiles the app", Severity.INFO, "size",
    what="A Dockerfile with one stage that compiles (`make`, `go build`, `mvn package`, "
    "`cargo build`, `dotnet publish`, `npm run build`, ...).",
    why="Sources, compilers and intermediate files all end up in the image (practice: "
    "multi-stage for all but the simplest images).",
    example="FROM golang:1.22\nCOPY . .\nRUN go build -o /app .",
    instead="FROM golang:1.22 AS build\nCOPY . .\nRUN go build -o /app .\n\n"
    "FROM gcr.io/distroless/static\nCOPY --from=build /app /app",
)  # fmt: skip
def single_stage_compile(analysis: Analysis) -> Iterator[Hit]:
    if len(analysis.stages) != 1:
        return
    for _facts, instruction, script in analysis.runs(triggers=False):
        for command in script.commands:
            for name, bare, sub in _COMPILE_NAMES:
                named = command.argv[0] == name or command.name == bare
                if named and (sub is None or command.subcommand() == sub):
                    if name == "npm" and "build" not in command.args:
                        continue
                    yield Hit(
                        command_span(command, instruction),
                        f"`{' '.join(command.argv[:3])}` compiles in the only stage; "
                        "build in a builder stage and copy the output",
                    )
                    return


_TEST_FILES = re.compile(
    r"(^|/)(tests?|spec|__tests__|testdata)(/|$)|_test\.go$|Tests?\.java$|"
    r"\.(test|spec)\.[jt]sx?$|(^|/)test_[^/]*\.py$|_test\.py$"
)
# Temporary files only count from the build context: another stage's /tmp is a staging area.
_TEMP_FILES = re.compile(r"^(\./)?(tmp|temp)(/|$)|\.(tmp|bak|swp|orig)$")


@rule(
    "TD120", "Test or temporary files copied into the final image", Severity.WARNING, "size",
    what="COPY/ADD of tests (`tests/`, `*_test.go`, `*Test.java`, `*.spec.ts`) or temporary "
    "files (`tmp/`, `*.tmp`, `*.bak`) into a stage that reaches the final image.",
    why="They are never used at run time, add bytes and can reveal internals "
    "(practice: no test or temporary files in the image).",
    example="COPY src/ tests/ /app/",
    instead="COPY src/ /app/src/",
)  # fmt: skip
def test_files(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction in analysis.instructions(final_only=True):
        if instruction.keyword not in ("COPY", "ADD"):
            continue
        sources, _dest = _copy_sources(analysis, instruction)
        from_stage = instruction.flag("from") is not None
        flagged = [
            s
            for s in sources
            if _TEST_FILES.search(s) or (not from_stage and _TEMP_FILES.search(s))
        ]
        if flagged:
            yield Hit(
                instruction.span,
                f"test/temporary files copied into the final image: {', '.join(flagged)}",
            )


@rule(
    "TD121", "Full-distro base where a slim variant exists", Severity.INFO, "size",
    what="The final image is based on a full distribution image (`debian:12`, `python:3.12`, "
    "`node:20`) that has a published slim or alpine variant.",
    why="The slim variants drop documentation, locales and build tools: often 100+ MB less to "
    "store, pull and scan (practice: small base images).",
    example="FROM python:3.12",
    instead="FROM python:3.12-slim",
)  # fmt: skip
def fat_base(analysis: Analysis) -> Iterator[Hit]:
    root = _chain_root(analysis)
    if root is None or "$" in root.stage.resolved_base:
        return
    ref = parse_image(root.stage.resolved_base)
    if is_sdk(ref):
        return
    variant = slim_variant(ref)
    if variant:
        yield Hit(
            root.stage.from_instruction.span,
            f"{root.stage.resolved_base} has a smaller variant: {variant}",
            evidence=(("suggested", variant),),
        )
