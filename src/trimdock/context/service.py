"""The I/O edge of `trimdock context`: read the Dockerfile, ignore file and tree, then analyse."""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from trimdock.context.analysis import Analysis, analyze, summarize
from trimdock.context.builderchoice import BuilderChoice
from trimdock.context.findings import FindingSettings, context_findings
from trimdock.context.ignorefile import IgnoreFile, locate_ignore_file, read_ignore_file
from trimdock.context.instructions import parse_build_file
from trimdock.context.regular import read_regular
from trimdock.context.render import Rendered
from trimdock.context.suggest import Suggestion, suggest
from trimdock.context.tree import ContextTree, scan_tree
from trimdock.context.verify import BuildPlan, Verification, verify
from trimdock.context.walk import Builder
from trimdock.errors import ContextError, DockerfileError
from trimdock.report.output import write_atomically


@dataclass(frozen=True)
class ContextRequest:
    context: Path
    dockerfile: Path | None = None
    builder: Builder = Builder.BUILDKIT
    # Why `builder` was chosen (option, config, environment, engine), shown in the report.
    builder_choice: BuilderChoice | None = None
    build_args: Mapping[str, str] | None = None
    settings: FindingSettings = field(default_factory=FindingSettings)
    suggest: bool = False
    write: bool = False
    verify: bool = False  # build with the old and the new ignore file before saying "verified"


def _read_dockerfile(path: Path) -> str:
    try:
        data = read_regular(path)
    except OSError as exc:
        raise DockerfileError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    if b"\0" in data:
        raise DockerfileError("not a text file", source=str(path))
    return data.decode("utf-8", "replace")


def relative_dockerfile(dockerfile: Path, context: Path) -> str | None:
    """The Dockerfile's path inside the context, as the builder names it; None outside it."""
    try:
        rel = os.path.relpath(dockerfile.resolve(), context.resolve())
    except ValueError:
        return None
    if rel.startswith(".."):
        return None
    return rel.replace(os.sep, "/")


def ensure_directory(context: Path) -> None:
    """A usable context directory, or one ContextError (never a PermissionError traceback)."""
    try:
        if not stat.S_ISDIR(os.stat(context).st_mode):
            raise ContextError("build context is not a directory", source=str(context))
        os.scandir(context).close()
    except OSError as exc:
        raise ContextError(
            f"cannot read build context: {exc.strerror}", source=str(context)
        ) from exc


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Scanning and analysing build hundreds of thousands of objects without reference cycles;
    Python's cycle collector would traverse them again and again (13% of a 200k-file run)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_analysis(request: ContextRequest) -> Analysis:
    with _without_cycle_collection():
        return _load_analysis(request)


def _load_analysis(request: ContextRequest) -> Analysis:
    context = request.context
    ensure_directory(context)
    dockerfile = request.dockerfile or context / "Dockerfile"
    text = _read_dockerfile(dockerfile)
    build = parse_build_file(text, str(dockerfile), request.build_args)
    ignore, tree = load_tree(context, dockerfile, request.builder)
    return analyze(tree, ignore, build, request.builder, relative_dockerfile(dockerfile, context))


def load_tree(context: Path, dockerfile: Path, builder: Builder) -> tuple[IgnoreFile, ContextTree]:
    """The ignore file the builder reads for `dockerfile`, and the scanned context (I/O)."""
    ignore_path = locate_ignore_file(context, dockerfile, builder.value)
    ignore = read_ignore_file(ignore_path) if ignore_path else IgnoreFile(path=None)
    return ignore, scan_tree(context)


def target_ignore_path(request: ContextRequest, analysis: Analysis) -> Path:
    """Where the builder would read the written file from: the ignore file in use, if any."""
    if analysis.ignore.path is not None:
        return Path(analysis.ignore.path)
    return request.context / ".dockerignore"


def run_context(request: ContextRequest) -> Rendered:
    analysis = load_analysis(request)
    with _without_cycle_collection():
        findings = tuple(context_findings(analysis, request.settings))
        report = summarize(analysis, str(request.dockerfile or request.context / "Dockerfile"))
    suggestion: Suggestion | None = None
    written: str | None = None
    verification: Verification | None = None
    if request.suggest or request.write or request.verify:
        target = target_ignore_path(request, analysis)
        suggestion = suggest(analysis, str(target))
        if request.verify and suggestion.text is not None:
            verification = _verify(request, target, suggestion.text)
        # With --verify, only a file the engine showed to change nothing is written.
        accepted = verification is None or verification.identical
        if request.write and suggestion.text is not None and accepted:
            write_atomically(target, suggestion.text.encode("utf-8", "surrogateescape"))
            written = str(target)
    return Rendered(
        report,
        findings,
        suggestion,
        written,
        builder_choice=request.builder_choice,
        verification=verification,
    )


def _verify(request: ContextRequest, target: Path, text: str) -> Verification:
    """Build with the ignore file in use (if any) and with `text` (engine I/O)."""
    old: str | None = None
    if target.exists():
        try:
            old = read_regular(target).decode("utf-8", "surrogateescape")
        except OSError as exc:
            raise ContextError(f"cannot read: {exc.strerror}", source=str(target)) from exc
    plan = BuildPlan(
        context=request.context,
        dockerfile=request.dockerfile or request.context / "Dockerfile",
        ignore_target=target,
        build_args=dict(request.build_args or {}),
    )
    return verify(plan, old, text)
