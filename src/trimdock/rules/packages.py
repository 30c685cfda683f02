"""Package managers: recommended packages, caches left in the layer, pinning, prompts.

Cache rules judge only stages that reach the final image (a builder's apt cache is thrown away
with the builder) and accept a `RUN --mount=type=cache` on the cache directory instead of a
cleanup, which hadolint does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from trimdock.dockerfile.model import Instruction
from trimdock.report.finding import Severity
from trimdock.rules.analysis import Analysis
from trimdock.rules.base import Hit, rule
from trimdock.rules.common import (
    Install,
    cache_mounts,
    command_span,
    has_cache_mount,
    installs,
    removes,
)


def _stage_env(analysis: Analysis, name: str) -> bool:
    """True when any stage reaching the final image sets ENV `name` (to a non-empty value)."""
    for facts, instruction in analysis.instructions("ENV", final_only=True):
        del facts
        values = instruction.values
        for key, value in zip(values[::2], values[1::2], strict=False):
            if key == name and analysis.word(value) not in ("", "0", "false", "off"):
                return True
    return False


# --- size: recommended packages and caches ------------------------------------------------------


@rule(
    "TD103", "apt-get install without --no-install-recommends", Severity.WARNING, "size",
    peer="DL3015",
    what="`apt-get install` in a stage that reaches the final image, without "
    "`--no-install-recommends`.",
    why="Recommended packages are not needed to run the app and often add tens of MB "
    "(practice: package managers install no recommended packages).",
    example="RUN apt-get update && apt-get install -y curl",
    instead="RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n"
    "    && rm -rf /var/lib/apt/lists/*",
)  # fmt: skip
def apt_recommends(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs(final_only=True):
        for item in installs(script):
            if item.tool == "apt" and not item.command.has_flag("--no-install-recommends"):
                if any("Install-Recommends=false" in a for a in item.command.args):
                    continue
                yield Hit(
                    command_span(item.command, instruction),
                    "apt-get install without --no-install-recommends pulls in recommended packages",
                )


@rule(
    "TD104", "apt lists not removed in the same RUN", Severity.WARNING, "size",
    peer="DL3009",
    what="A RUN that runs `apt-get update`/`install` in a stage reaching the final image but does "
    "not remove `/var/lib/apt/lists/*` in that same RUN.",
    why="The package index (20-40 MB) stays in the layer; removing it in a later RUN saves "
    "nothing because layers only add (practice: clear caches in the same RUN).",
    example="RUN apt-get update && apt-get install -y --no-install-recommends curl",
    instead="RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n"
    "    && rm -rf /var/lib/apt/lists/*\n"
    "# or: RUN --mount=type=cache,target=/var/lib/apt/lists ...",
)  # fmt: skip
def apt_lists(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs(final_only=True):
        updates = [c for c in script.named("apt-get", "apt") if c.subcommand() == "update"]
        if not updates:
            continue
        if removes(script, r"^/var/lib/apt/lists") or has_cache_mount(instruction, "/var/lib/apt"):
            continue
        if (
            script.has("apt-get", "apt")
            and any(
                c.subcommand() in ("clean", "autoclean") for c in script.named("apt-get", "apt")
            )
            and removes(script, r"lists")
        ):
            continue
        yield Hit(
            command_span(updates[0], instruction),
            "apt-get update without `rm -rf /var/lib/apt/lists/*` in the same RUN leaves the "
            "package index in the layer",
        )


@rule(
    "TD106", "apk add without --no-cache", Severity.WARNING, "size", peer="DL3019",
    what="`apk add` in a stage reaching the final image without `--no-cache`.",
    why="The APK index and downloaded packages stay in `/var/cache/apk` in the layer.",
    example="RUN apk add curl",
    instead="RUN apk add --no-cache curl",
)  # fmt: skip
def apk_cache(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs(final_only=True):
        if has_cache_mount(instruction, "/var/cache/apk", "/etc/apk/cache"):
            continue
        if removes(script, r"^/var/cache/apk"):
            continue
        for item in installs(script):
            if item.tool == "apk" and not item.command.has_flag("--no-cache"):
                yield Hit(command_span(item.command, instruction), "apk add without --no-cache")


@rule(
    "TD107", "pip install without --no-cache-dir", Severity.WARNING, "size", peer="DL3042",
    what="`pip install` in a stage reaching the final image without `--no-cache-dir` (and no "
    "`PIP_NO_CACHE_DIR` or cache mount).",
    why="pip keeps every downloaded wheel in `/root/.cache/pip` inside the layer.",
    example="RUN pip install -r requirements.txt",
    instead="RUN pip install --no-cache-dir -r requirements.txt\n"
    "# or: RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt",
)  # fmt: skip
def pip_cache(analysis: Analysis) -> Iterator[Hit]:
    if _stage_env(analysis, "PIP_NO_CACHE_DIR"):
        return
    for _facts, instruction, script in analysis.runs(final_only=True):
        if has_cache_mount(instruction, ".cache", "pip"):
            continue
        if removes(script, r"\.cache/pip|\.cache/?$"):
            continue
        for item in installs(script):
            if item.tool == "pip" and not item.command.has_flag("--no-cache-dir", "--no-cache"):
                yield Hit(
                    command_span(item.command, instruction), "pip install without --no-cache-dir"
                )


def _cleaned(script_commands: list[list[str]], *subcommands: str) -> bool:
    return any(
        ops[:2] == list(subcommands) or ops[:1] == list(subcommands) for ops in script_commands
    )


def _clean_rule(
    analysis: Analysis,
    tool: str,
    names: tuple[str, ...],
    clean: tuple[str, ...],
    cache_dirs: tuple[str, ...],
    message: str,
) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs(final_only=True):
        items = [i for i in installs(script) if i.tool == tool]
        if not items:
            continue
        cleaned = any(list(c.operands[: len(clean)]) == list(clean) for c in script.named(*names))
        if cleaned or has_cache_mount(instruction, *cache_dirs):
            continue
        if removes(script, *(re.escape(d) for d in cache_dirs)):
            continue
        yield Hit(command_span(items[0].command, instruction), message)


@rule(
    "TD108", "yum install without yum clean all", Severity.WARNING, "size", peer="DL3032",
    what="`yum install` without `yum clean all` in the same RUN, in a stage reaching the final "
    "image.",
    why="yum's metadata and package cache (`/var/cache/yum`) stay in the layer.",
    example="RUN yum install -y httpd",
    instead="RUN yum install -y httpd && yum clean all",
)  # fmt: skip
def yum_clean(analysis: Analysis) -> Iterator[Hit]:
    yield from _clean_rule(
        analysis,
        "yum",
        ("yum",),
        ("clean", "all"),
        ("/var/cache/yum",),
        "yum install without `yum clean all` in the same RUN",
    )


@rule(
    "TD109", "dnf install without dnf clean all", Severity.WARNING, "size", peer="DL3040",
    what="`dnf`/`microdnf install` without `clean all` in the same RUN, in a stage reaching the "
    "final image.",
    why="dnf's metadata and package cache (`/var/cache/dnf`) stay in the layer.",
    example="RUN dnf install -y httpd",
    instead="RUN dnf install -y httpd && dnf clean all",
)  # fmt: skip
def dnf_clean(analysis: Analysis) -> Iterator[Hit]:
    yield from _clean_rule(
        analysis,
        "dnf",
        ("dnf", "microdnf", "tdnf"),
        ("clean", "all"),
        ("/var/cache/dnf", "/var/cache/yum"),
        "dnf install without `dnf clean all` in the same RUN",
    )


@rule(
    "TD110", "zypper install without zypper clean", Severity.WARNING, "size", peer="DL3036",
    what="`zypper install` without `zypper clean` in the same RUN, in a stage reaching the "
    "final image.",
    why="zypper's package cache stays in the layer.",
    example="RUN zypper install -y curl",
    instead="RUN zypper install -y curl && zypper clean --all",
)  # fmt: skip
def zypper_clean(analysis: Analysis) -> Iterator[Hit]:
    yield from _clean_rule(
        analysis,
        "zypper",
        ("zypper",),
        ("clean",),
        ("/var/cache/zypp",),
        "zypper install without `zypper clean` in the same RUN",
    )


@rule(
    "TD111", "yarn install without yarn cache clean", Severity.INFO, "size", peer="DL3060",
    what="`yarn install`/`add` without `yarn cache clean` in the same RUN, in a stage reaching the "
    "final image.",
    why="Yarn's offline cache (often hundreds of MB) stays in the layer.",
    example="RUN yarn install --frozen-lockfile",
    instead="RUN yarn install --frozen-lockfile && yarn cache clean",
)  # fmt: skip
def yarn_clean(analysis: Analysis) -> Iterator[Hit]:
    yield from _clean_rule(
        analysis,
        "yarn",
        ("yarn",),
        ("cache", "clean"),
        ("/usr/local/share/.cache/yarn", ".yarn", "yarn"),
        "yarn install without `yarn cache clean` in the same RUN",
    )


@rule(
    "TD112", "npm install leaves its cache", Severity.INFO, "size",
    what="`npm install`/`npm ci` without `npm cache clean --force` (or a cache mount) in the same "
    "RUN, in a stage reaching the final image.",
    why="npm keeps every downloaded tarball in `/root/.npm` inside the layer.",
    example="RUN npm ci --omit=dev",
    instead="RUN npm ci --omit=dev && npm cache clean --force\n"
    "# or: RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev",
)  # fmt: skip
def npm_clean(analysis: Analysis) -> Iterator[Hit]:
    yield from _clean_rule(
        analysis,
        "npm",
        ("npm",),
        ("cache", "clean"),
        ("/root/.npm", ".npm"),
        "npm install without `npm cache clean --force` in the same RUN",
    )


@rule(
    "TD113", "gem install with documentation", Severity.INFO, "size",
    what="`gem install` without `--no-document` in a stage reaching the final image.",
    why="Generated ri/rdoc documentation is never read in a container and adds MBs.",
    example="RUN gem install bundler",
    instead="RUN gem install --no-document bundler",
)  # fmt: skip
def gem_docs(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs(final_only=True):
        for item in installs(script):
            if item.tool == "gem" and not item.command.has_flag("--no-document", "-N", "--no-ri"):
                yield Hit(
                    command_span(item.command, instruction), "gem install without --no-document"
                )


# --- cache: pinning -------------------------------------------------------------------------------


def _local_or_file(package: str) -> bool:
    return (
        package.startswith((".", "/", "$", "~"))
        or "://" in package
        or package.endswith((".deb", ".rpm", ".whl", ".tar.gz", ".tgz", ".zip", ".apk", ".gem"))
        or package.startswith("git+")
    )


def _tool_installs(analysis: Analysis, tool: str) -> list[tuple[Instruction, Install]]:
    """`tool`'s installs in every RUN (ONBUILD ones too), in order: grouped once per file for
    the pinning and prompt rules of every package manager."""
    grouped: dict[str, list[tuple[Instruction, Install]]] | None = analysis.memo.get("installs")
    if grouped is None:
        grouped = {}
        for _facts, instruction, script in analysis.runs():
            for item in installs(script):
                grouped.setdefault(item.tool, []).append((instruction, item))
        analysis.memo["installs"] = grouped
    return grouped.get(tool, [])


def _pin_rule(analysis: Analysis, tool: str, pinned: re.Pattern[str], what: str) -> Iterator[Hit]:
    for instruction, item in _tool_installs(analysis, tool):
        if tool == "gem" and item.command.has_flag("-v", "--version"):
            continue
        loose = [p for p in item.packages if not _local_or_file(p) and not pinned.search(p)]
        if loose:
            yield Hit(
                command_span(item.command, instruction),
                f"{what}: {', '.join(loose[:5])}{' ...' if len(loose) > 5 else ''}",
                evidence=(("packages", loose),),
            )


_PIN_WHY = (
    "Without a version the layer's content changes whenever the repository does, while the "
    "build cache keeps serving the old layer: builds are not reproducible and the cache breaks "
    "when you do not mean it to (practice: pin versions)."
)


@rule(
    "TD203", "apt-get install without version pins", Severity.WARNING, "cache", peer="DL3008",
    what="`apt-get install pkg` without `pkg=version`.",
    example="RUN apt-get install -y --no-install-recommends curl",
    instead="RUN apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5",
    why=_PIN_WHY,
)  # fmt: skip
def apt_pin(analysis: Analysis) -> Iterator[Hit]:
    yield from _pin_rule(analysis, "apt", re.compile(r"=|\.deb$"), "unpinned apt packages")


@rule(
    "TD204", "apk add without version pins", Severity.WARNING, "cache", peer="DL3018",
    what="`apk add pkg` without `pkg=version` (or `~version`).",
    example="RUN apk add --no-cache curl",
    instead="RUN apk add --no-cache curl=8.5.0-r0",
    why=_PIN_WHY,
)  # fmt: skip
def apk_pin(analysis: Analysis) -> Iterator[Hit]:
    yield from _pin_rule(analysis, "apk", re.compile(r"[=~<>]"), "unpinned apk packages")


@rule(
    "TD205", "pip install without version pins", Severity.WARNING, "cache", peer="DL3013",
    what="`pip install pkg` without `pkg==version` (requirement files and local paths are fine).",
    example="RUN pip install --no-cache-dir flask",
    instead="RUN pip install --no-cache-dir flask==3.0.3",
    why=_PIN_WHY,
)  # fmt: skip
def pip_pin(analysis: Analysis) -> Iterator[Hit]:
    yield from _pin_rule(
        analysis, "pip", re.compile(r"==|~=|===|>=|<=|<|>|@"), "unpinned pip packages"
    )


@rule(
    "TD206", "npm install without version pins", Severity.WARNING, "cache", peer="DL3016",
    what="`npm install pkg` without `pkg@version` (installs from package.json are fine).",
    example="RUN npm install -g typescript",
    instead="RUN npm install -g typescript@5.4.5",
    why=_PIN_WHY,
)  # fmt: skip
def npm_pin(analysis: Analysis) -> Iterator[Hit]:
    yield from _pin_rule(analysis, "npm", re.compile(r".@[^/]"), "unpinned npm packages")


@rule(
    "TD207", "gem install without version pins", Severity.WARNING, "cache", peer="DL3028",
    what="`gem install pkg` without `pkg:version` or `-v version`.",
    example="RUN gem install --no-document bundler",
    instead="RUN gem install --no-document bundler:2.5.10",
    why=_PIN_WHY,
)  # fmt: skip
def gem_pin(analysis: Analysis) -> Iterator[Hit]:
    yield from _pin_rule(analysis, "gem", re.compile(r":"), "unpinned gems")


@rule(
    "TD208", "yum install without version pins", Severity.WARNING, "cache", peer="DL3033",
    what="`yum install pkg` without `pkg-version`.",
    example="RUN yum install -y httpd && yum clean all",
    instead="RUN yum install -y httpd-2.4.6 && yum clean all",
    why=_PIN_WHY,
)  # fmt: skip
def yum_pin(analysis: Analysis) -> Iterator[Hit]:
    yield from _pin_rule(analysis, "yum", re.compile(r"-\d"), "unpinned yum packages")


@rule(
    "TD209", "dnf install without version pins", Severity.WARNING, "cache", peer="DL3041",
    what="`dnf`/`microdnf install pkg` without `pkg-version`.",
    example="RUN dnf install -y httpd && dnf clean all",
    instead="RUN dnf install -y httpd-2.4.57 && dnf clean all",
    why=_PIN_WHY,
)  # fmt: skip
def dnf_pin(analysis: Analysis) -> Iterator[Hit]:
    yield from _pin_rule(analysis, "dnf", re.compile(r"-\d"), "unpinned dnf packages")


@rule(
    "TD210", "zypper install without version pins", Severity.WARNING, "cache", peer="DL3037",
    what="`zypper install pkg` without `pkg=version`.",
    example="RUN zypper install -y curl",
    instead="RUN zypper install -y curl=8.0.1",
    why=_PIN_WHY,
)  # fmt: skip
def zypper_pin(analysis: Analysis) -> Iterator[Hit]:
    yield from _pin_rule(analysis, "zypper", re.compile(r"[=<>]"), "unpinned zypper packages")


# --- correctness: prompts ---------------------------------------------------------------------


def _yes_rule(
    analysis: Analysis, tool: str, names: tuple[str, ...], flags: tuple[str, ...], message: str
) -> Iterator[Hit]:
    for instruction, item in _tool_installs(analysis, tool):
        if item.command.name in names and not item.command.has_flag(*flags):
            if tool == "apt" and any(a in ("-qq", "-q=2") for a in item.command.args):
                continue
            yield Hit(command_span(item.command, instruction), message)


@rule(
    "TD601", "apt-get install without -y", Severity.WARNING, "correctness", peer="DL3014",
    what="`apt-get install` without `-y`/`--yes`.",
    why="The build has no terminal: apt-get asks for confirmation and the build fails.",
    example="RUN apt-get install curl",
    instead="RUN apt-get install -y --no-install-recommends curl",
)  # fmt: skip
def apt_yes(analysis: Analysis) -> Iterator[Hit]:
    yield from _yes_rule(
        analysis,
        "apt",
        ("apt-get", "apt"),
        ("-y", "--yes", "--assume-yes"),
        "apt-get install without -y",
    )


@rule(
    "TD616", "yum install without -y", Severity.WARNING, "correctness", peer="DL3030",
    what="`yum install` without `-y`.",
    why="The build has no terminal: yum asks for confirmation and the build fails.",
    example="RUN yum install httpd",
    instead="RUN yum install -y httpd && yum clean all",
)  # fmt: skip
def yum_yes(analysis: Analysis) -> Iterator[Hit]:
    yield from _yes_rule(analysis, "yum", ("yum",), ("-y", "--assumeyes"), "yum install without -y")


@rule(
    "TD617", "dnf install without -y", Severity.WARNING, "correctness", peer="DL3038",
    what="`dnf install` without `-y` (microdnf never prompts).",
    why="The build has no terminal: dnf asks for confirmation and the build fails.",
    example="RUN dnf install httpd",
    instead="RUN dnf install -y httpd && dnf clean all",
)  # fmt: skip
def dnf_yes(analysis: Analysis) -> Iterator[Hit]:
    yield from _yes_rule(
        analysis, "dnf", ("dnf", "tdnf"), ("-y", "--assumeyes"), "dnf install without -y"
    )


@rule(
    "TD618", "zypper install without -n", Severity.WARNING, "correctness", peer="DL3034",
    what="`zypper install` without `-y`/`--non-interactive`.",
    why="The build has no terminal: zypper asks for confirmation and the build fails.",
    example="RUN zypper install curl",
    instead="RUN zypper install -y curl && zypper clean",
)  # fmt: skip
def zypper_yes(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs():
        for command in script.named("zypper"):
            if command.operands[:1] in (("install",), ("in",)) and not (
                command.has_flag("-y", "-n", "--non-interactive", "--no-confirm")
            ):
                yield Hit(command_span(command, instruction), "zypper install without -n/-y")


@rule(
    "TD624", "apt instead of apt-get", Severity.WARNING, "correctness", peer="DL3027",
    what="`apt` used in a RUN.",
    why="`apt` is for people at a terminal; its command-line interface is not stable for scripts.",
    example="RUN apt install -y curl",
    instead="RUN apt-get install -y --no-install-recommends curl",
)  # fmt: skip
def apt_not_apt_get(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs():
        for command in script.named("apt"):
            yield Hit(command_span(command, instruction), "use apt-get (stable CLI) instead of apt")


_ = cache_mounts  # re-exported helper used by other families
