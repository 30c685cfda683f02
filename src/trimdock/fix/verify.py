"""`fix --verify`: build the original and the fixed Dockerfile, compare, refuse what breaks.

Both are built with the builder's cache off (honest build times), then rebuilt from a copy of
the context in which the most volatile copied file was edited: the rebuild time and the steps
the cache could not serve are the cache-order proof.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from trimdock.dockerfile import parse
from trimdock.dockerfile.model import Dockerfile
from trimdock.engine.build import Build, BuildFailed
from trimdock.errors import DockerfileError
from trimdock.fix.apply import FixOutcome
from trimdock.fix.compare import DPKG_RECOMMENDS, STAGE_BUILD, Comparison, compare
from trimdock.fix.engine import Builder, Filesystem, context_copy, touched_copy
from trimdock.rules.analysis import Analysis

# Files people edit between builds (the same families the cache rule TD202 calls volatile).
_VOLATILE = re.compile(
    r"\.(conf|cfg|ini|json|ya?ml|toml|properties|env|xml|txt|sh|py|js|ts|rb|go|java|html|css)$"
)
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "__pycache__"})


@dataclass(frozen=True)
class Side:
    build: Build
    filesystem: Filesystem
    rebuild: Build | None = None


@dataclass(frozen=True)
class Verification:
    before: Side
    after: Side | None  # None: the fixed Dockerfile did not build
    comparison: Comparison | None
    touched: str | None  # the context file edited for the rebuild measure
    failure: str | None = None  # why the fixed Dockerfile did not build

    @property
    def accepted(self) -> bool:
        return self.failure is None and self.comparison is not None and self.comparison.accepted


def buildkit_features(dockerfile: Dockerfile) -> str | None:
    """What in the file the legacy builder (the only one the engine's API build offers
    here) cannot build, as "line N uses a heredoc"; None when nothing is."""
    for stage in dockerfile.stages:
        for instruction in stage.instructions:
            if instruction.heredocs:
                return f"line {instruction.line} uses a heredoc"
            if instruction.keyword == "RUN" and instruction.flag("mount") is not None:
                return f"line {instruction.line} uses RUN --mount"
    return None


def volatile_file(dockerfile: Dockerfile, context: Path) -> str | None:
    """The first often-edited file the final stage copies from the context (its edit throws
    away the most cache), as a path relative to the context."""
    analysis = Analysis.build(dockerfile)
    for facts in analysis.final_stages:
        for instruction in facts.stage.instructions:
            if instruction.keyword not in ("COPY", "ADD") or instruction.flag("from"):
                continue
            if instruction.heredocs:
                continue
            for source in [analysis.word(v) for v in instruction.values][:-1]:
                if "://" in source or "$" in source or any(c in source for c in "*?["):
                    continue
                found = _volatile_under(context, source.lstrip("/"))
                if found is not None:
                    return found
    return None


def _volatile_under(context: Path, source: str) -> str | None:
    root = (context / source).resolve()
    if not root.is_relative_to(context.resolve()):
        return None
    if root.is_file():
        return source if _VOLATILE.search(root.name) else None
    if not root.is_dir():
        return None
    for path in sorted(root.rglob("*")):
        if any(part in _SKIP_DIRS for part in path.relative_to(root).parts):
            continue
        if path.is_file() and not path.is_symlink() and _VOLATILE.search(path.name):
            return path.relative_to(context.resolve()).as_posix()
    return None


def verify(
    context: Path, outcome: FixOutcome, *, tag: str, keep_images: bool = False
) -> Verification:
    """Build both files on the engine and compare them (images removed unless kept)."""
    needs = buildkit_features(parse(outcome.original, outcome.path))
    if needs is not None:
        raise DockerfileError(
            f"cannot verify: {needs}, which only BuildKit builds, and --verify builds with "
            "the engine API's legacy builder (run without --verify)",
            source=outcome.path,
        )
    builder = Builder()
    removes = outcome.removes
    ignore = _ignore(context, outcome)
    with tempfile.TemporaryDirectory(prefix="trimdock-fix-ignore-") as scratch:
        fixed_context = context_copy(context, Path(scratch), ignore) if ignore else context
        try:
            return _verify(builder, context, fixed_context, ignore, outcome, removes, tag)
        finally:
            if not keep_images:
                builder.remove()


def _ignore(context: Path, outcome: FixOutcome) -> tuple[str, str] | None:
    """The proposed ignore file as (path relative to the context, text)."""
    if outcome.ignore is None:
        return None
    relative = outcome.ignore.path.resolve().relative_to(context.resolve()).as_posix()
    return relative, outcome.ignore.text


def _verify(
    builder: Builder,
    context: Path,
    fixed_context: Path,
    ignore: tuple[str, str] | None,
    outcome: FixOutcome,
    removes: tuple[str, ...],
    tag: str,
) -> Verification:
    try:
        before = builder.build(context, outcome.original, f"{tag}-before", nocache=True)
    except BuildFailed as exc:
        raise DockerfileError(
            f"the original does not build (legacy builder): {exc.line}", source=outcome.path
        ) from None
    old = builder.filesystem(before.tag, dpkg=DPKG_RECOMMENDS in removes)
    try:
        after = builder.build(fixed_context, outcome.text, f"{tag}-after", nocache=True)
    except BuildFailed as exc:
        return Verification(Side(before, old), None, None, None, str(exc))
    new = builder.filesystem(after.tag, dpkg=False)
    original = parse(outcome.original, outcome.path)
    build_added: frozenset[str] = frozenset()
    if STAGE_BUILD in removes and original.final_stage is not None:
        base = builder.layer_count(original.final_stage.resolved_base)
        build_added = frozenset(p for p, layer in old.layer_of.items() if base and layer >= base)
    comparison = compare(old.paths, new.paths, removes, old.dpkg_lists, build_added)
    touched = volatile_file(original, context)
    rebuilt: list[Build | None] = [None, None]
    if touched is not None:
        with tempfile.TemporaryDirectory(prefix="trimdock-fix-context-") as scratch:
            copies = (
                touched_copy(context, touched, Path(scratch)),
                touched_copy(context, touched, Path(scratch), ignore) if ignore else None,
            )
            for index, (text, name) in enumerate(
                ((outcome.original, "before"), (outcome.text, "after"))
            ):
                copy = copies[index] or copies[0]
                try:
                    rebuilt[index] = builder.build(
                        copy.directory, text, f"{tag}-{name}-rebuild", nocache=False
                    )
                except BuildFailed:
                    rebuilt[index] = None
    return Verification(
        Side(before, old, rebuilt[0]), Side(after, new, rebuilt[1]), comparison, touched
    )
