"""TD2xx build cache: instruction order and what invalidates expensive steps."""

from __future__ import annotations

import re
from collections.abc import Iterator

from trimdock.dockerfile.model import Instruction
from trimdock.dockerfile.shell import Script
from trimdock.report.finding import Severity
from trimdock.rules.analysis import Analysis
from trimdock.rules.base import Hit, rule
from trimdock.rules.common import command_span, installs

_DEPENDENCY_INSTALL = (
    ("npm", ("install", "ci", "i")), ("yarn", ("install", "")), ("pnpm", ("install", "i")),
    ("pip", ("install",)), ("pip3", ("install",)), ("poetry", ("install",)),
    ("mvn", ("dependency:go-offline", "dependency:resolve", "package", "install", "verify")),
    ("gradle", ("dependencies", "build")), ("go", ("mod",)), ("dotnet", ("restore",)),
    ("bundle", ("install", "")), ("composer", ("install",)), ("cargo", ("fetch", "build")),
    ("uv", ("sync", "pip")),
)  # fmt: skip


_DEPENDENCY_BY_NAME = dict(_DEPENDENCY_INSTALL)


def _dependency_step(script: Script) -> str | None:
    for command in script.commands:
        name = command.name
        subs = _DEPENDENCY_BY_NAME.get(name)
        if subs is None or command.subcommand() not in subs:
            continue
        if (
            name in ("pip", "pip3")
            and not command.has_flag("-r", "--requirement")
            and "." not in command.operands
        ):
            continue
        if name == "go" and command.operands[:2] != ("mod", "download"):
            continue
        return " ".join(command.argv[:3])
    return None


# Files a dependency tool reads from its working directory without naming them on the command line:
# copying them alone before the fetch is the recommended order, not a volatile copy.
_MANIFEST_NAMES = frozenset({
    "pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts",
    "gradle.properties", "package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock",
    ".yarnrc.yml", "pnpm-lock.yaml", "pnpm-workspace.yaml", ".npmrc", "requirements.txt",
    "pyproject.toml", "poetry.lock", "uv.lock", "pipfile", "pipfile.lock", "setup.py",
    "setup.cfg", "go.mod", "go.sum", "cargo.toml", "cargo.lock", "gemfile", "gemfile.lock",
    "composer.json", "composer.lock", "packages.config", "nuget.config", "global.json",
    "directory.packages.props",
})  # fmt: skip
_MANIFEST_PATTERN = re.compile(r"(requirements[\w.-]*\.txt|.*\.(csproj|fsproj|vbproj|sln))$")


def _is_manifest(source: str) -> bool:
    name = source.rstrip("/").rsplit("/", 1)[-1].lower()
    return name in _MANIFEST_NAMES or bool(_MANIFEST_PATTERN.fullmatch(name))


def _copies_only_manifests(analysis: Analysis, instruction: Instruction) -> bool:
    if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from"):
        return False
    sources = [analysis.word(v) for v in instruction.values][:-1]
    return bool(sources) and all(_is_manifest(source) for source in sources)


def _is_whole_source(analysis: Analysis, instruction: Instruction) -> str | None:
    if (
        instruction.keyword not in ("COPY", "ADD")
        or instruction.flag("from")
        or instruction.heredocs
    ):
        return None
    values = [analysis.word(v) for v in instruction.values]
    for source in values[:-1]:
        if source.rstrip("/") in (".", "", "src", "./src", "app", "./app", "lib", "./lib", "*"):
            return source
    return None


@rule(
    "TD201", "Source copied before installing dependencies", Severity.WARNING, "cache",
    what="`COPY . .` (or the source folder) before `npm ci`, `pip install -r`, "
    "`mvn dependency:go-offline`, `go mod download`, `dotnet restore`, `bundle install`, ...",
    why="Every source edit invalidates the cache of the dependency install, so each build "
    "re-downloads every dependency (practice: copy the manifest, install, then copy the source).",
    example="COPY . .\nRUN npm ci",
    instead="COPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .",
    same_fact=("TD101",),  # the same whole-context COPY, weighed for size
)  # fmt: skip
def source_before_dependencies(analysis: Analysis) -> Iterator[Hit]:
    for facts in analysis.stages:
        copied: tuple[Instruction, str] | None = None
        manifest_copied = False
        for position, instruction in enumerate(facts.stage.instructions):
            if copied is None:
                source = _is_whole_source(analysis, instruction)
                if source is not None:
                    copied = (instruction, source)
                    continue
                manifest_copied |= _copies_only_manifests(analysis, instruction)
            if instruction.keyword != "RUN":
                continue
            step = _dependency_step(analysis.script(instruction, facts.shell[position]))
            if not step:
                continue
            if copied is None:
                if manifest_copied:
                    # Manifest copied, dependencies fetched, then the source: the recommended
                    # order; the build step after `COPY . .` (`mvn package`) belongs there.
                    break
                continue
            yield Hit(
                copied[0].span,
                f"COPY {copied[1]} (line {copied[0].line}) comes before `{step}` "
                f"(line {instruction.line}): any source change re-runs the install",
                evidence=(("copy_line", copied[0].line), ("install_line", instruction.line)),
            )
            break


_VOLATILE = re.compile(
    r"\.(conf|cfg|ini|json|ya?ml|toml|properties|env|xml|txt|sh|py|js|ts|rb|go|java|html|css)$"
)


def _mentions(text: str, name: str) -> bool:
    """`name` appears in `text` as a path component or word, not inside another word."""
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text) is not None


_COMPILERS = frozenset({"make", "gcc", "g++", "cmake", "cargo", "mvn", "gradle", "javac"})


def _compiles(script: Script) -> bool:
    return any(
        command.name in _COMPILERS
        or (command.name == "go" and command.subcommand() in ("build", "install"))
        for command in script.commands
    )


def _expensive(script: Script) -> str | None:
    if installs(script):
        return "package install"
    for command in script.commands:
        if command.name in ("curl", "wget", "git") and any("://" in a for a in command.args):
            return "download"
    if _compiles(script):
        return "compile"
    return None


@rule(
    "TD202", "Context copied before an expensive step that does not use it", Severity.INFO, "cache",
    what="A COPY/ADD from the build context followed by an expensive RUN (package install, "
    "download, compile) that does not use what was copied: a small, often-edited file before "
    "any of them, or any context copy before an install or download.",
    why="Editing the copied files invalidates the cache of every later step, so the expensive "
    "step re-runs for nothing (practice: order instructions from least to most often changed).",
    example="COPY app.conf /etc/app.conf\nRUN apt-get update && apt-get install -y ...",
    instead="RUN apt-get update && apt-get install -y ...\nCOPY app.conf /etc/app.conf",
    same_fact=("TD101",),  # the same whole-context COPY, weighed for size
)  # fmt: skip
def volatile_before_expensive(analysis: Analysis) -> Iterator[Hit]:
    for facts in analysis.stages:
        pending: list[tuple[Instruction, list[str], str, bool]] = []
        for position, instruction in enumerate(facts.stage.instructions):
            if (
                instruction.keyword in ("COPY", "ADD")
                and not instruction.flag("from")
                and not instruction.heredocs
            ):
                values = [analysis.word(v) for v in instruction.values]
                sources = [s for s in values[:-1] if "://" not in s]
                if sources:
                    volatile = all(_VOLATILE.search(s) and "*" not in s for s in sources)
                    pending.append((instruction, sources, values[-1], volatile))
                continue
            if instruction.keyword != "RUN" or not pending:
                continue
            script = analysis.script(instruction, facts.shell[position])
            kind = _expensive(script)
            if kind is None:
                continue
            fetches = _dependency_step(script) is not None or kind == "compile"
            # A RUN that builds reads its working tree: only a named volatile file can be shown
            # unused there. An install or download that compiles nothing reads what it names.
            reads_tree = fetches or _compiles(script)
            text = instruction.rest + "".join(h.content for h in instruction.heredocs)
            for copy, sources, dest, volatile in pending:
                if not volatile and reads_tree:
                    continue
                names = [s.rstrip("/").rsplit("/", 1)[-1] for s in sources] + [
                    dest.rstrip("/").rsplit("/", 1)[-1]
                ]
                if any(_mentions(text, name) for name in names if name not in ("", ".", "*")):
                    continue
                if fetches and all(_is_manifest(source) for source in sources):
                    continue  # the manifest the fetch or build reads: the recommended order
                yield Hit(
                    copy.span,
                    f"COPY {' '.join(sources)} (line {copy.line}) comes before a {kind} on line "
                    f"{instruction.line} that does not use it: every edit of what it copies "
                    f"re-runs that {kind}",
                    evidence=(("copy_line", copy.line), ("expensive_line", instruction.line)),
                )
            pending = []


@rule(
    "TD211", "apt-get update in its own RUN", Severity.WARNING, "cache",
    what="A RUN that runs `apt-get update` without installing anything.",
    why="The index is cached as its own layer; a later `apt-get install` then uses a stale index "
    "(failing when packages move) and the lists stay in the image (practice: update, install "
    "and clean in one RUN).",
    example="RUN apt-get update\nRUN apt-get install -y --no-install-recommends curl",
    instead="RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n"
    "    && rm -rf /var/lib/apt/lists/*",
    same_fact=("TD104",),  # the lists this RUN leaves behind
)  # fmt: skip
def apt_update_alone(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs():
        apt = script.named("apt-get", "apt")
        updates = [c for c in apt if c.subcommand() == "update"]
        if updates and not any(
            c.subcommand() in ("install", "upgrade", "dist-upgrade", "build-dep", "source")
            for c in apt
        ):
            yield Hit(
                command_span(updates[0], instruction),
                "apt-get update without an install in the same RUN",
            )


# A URL (no blanks) with `-1.4`, `_v2.0` or `/1.2` after its scheme. Once one regex
# `https?://\S*?[/_-]v?\d+\.\d+(\.\d+)?\S*`, which backtracks quadratically on a long URL (a
# 1 MB argument of repeated `https://` took minutes); the two linear checks say the same.
_URL = re.compile(r"https?://\S*")
_VERSION_PART = re.compile(r"[/_-]v?\d+\.\d")


def _has_version(url: str) -> bool:
    return _VERSION_PART.search(url, url.index("://") + 3) is not None


@rule(
    "TD212", "Version hard-coded in a download URL", Severity.INFO, "cache",
    what="A `curl`/`wget`/`ADD` URL with a literal version number instead of an ARG.",
    why="The version is the cache key of the step: keep it in one ARG so that bumping it is one "
    "edit and the cache breaks exactly then (practice: pin versions deliberately).",
    example="RUN curl -fsSL https://example.com/tool-1.4.2.tar.gz | tar -xz",
    instead="ARG TOOL_VERSION=1.4.2\n"
    "RUN curl -fsSL https://example.com/tool-${TOOL_VERSION}.tar.gz | tar -xz",
)  # fmt: skip
def url_version(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs():
        for command in script.named("curl", "wget"):
            for arg in command.args:
                if "$" not in arg and _URL.fullmatch(arg) and _has_version(arg):
                    yield Hit(command_span(command, instruction), f"version hard-coded in {arg}")
                    break
