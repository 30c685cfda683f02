"""TD101's fix where listing the context is not sound (`fix.explicit` lists it where it is):
`.dockerignore` additions for a whole-context COPY (unsafe).

Replacing `COPY . .` with the explicit sources the build uses is not sound in general: what the
program reads at run time (`CMD python app.py` imports modules, a server reads its templates)
is not written in the Dockerfile, and even a manifest-first file (`COPY package.json` then
`COPY . .`) copies the whole tree because the app needs it. A rewrite that listed only the
sources named in later RUN lines would drop files the app opens, and `fix --verify` could not
tell: the lost files would be exactly the ones the fix meant to drop. So trimdock proposes the
lesser, honest rewrite: keep `COPY . .` and add to `.dockerignore` the names a whole-context
COPY should never take (`trimdock context`'s deny-list: VCS data, secrets, dependency folders,
caches, coverage, logs, build output), only those present among the files the build sends.
It changes what COPY copies, so it is unsafe; `--verify` checks that the image lost nothing but
paths of those names.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from trimdock.context.service import ContextRequest, load_analysis
from trimdock.context.suggest import COPY_DENY
from trimdock.context.walk import Builder
from trimdock.dockerfile import parse
from trimdock.errors import TrimdockError
from trimdock.fix.apply import AppliedFix
from trimdock.report.finding import Applicability, FileLocation, Fix
from trimdock.rules.engine import LintSettings, lint

HEADER = (
    "# Added by `trimdock fix`: what a whole-context COPY should not take.\n"
    "# It CHANGES what COPY copies: check the image still has what it needs.\n"
)


@dataclass(frozen=True)
class IgnoreProposal:
    path: Path  # where the builder reads it
    original: str | None  # None: there was no file
    text: str
    patterns: tuple[str, ...]


def deny_patterns(sent_names: set[str]) -> tuple[str, ...]:
    """The deny-list patterns that match a sent file or folder name (pure)."""
    present: list[str] = []
    for group in COPY_DENY:
        for pattern in group:
            if any(fnmatch.fnmatchcase(name, pattern) for name in sent_names):
                present.append(f"**/{pattern}")
    return tuple(present)


def extended(original: str | None, patterns: tuple[str, ...]) -> str:
    """The file with the patterns appended (its own lines kept as they are)."""
    head = original or ""
    if head and not head.endswith("\n"):
        head += "\n"
    return head + HEADER + "".join(f"{p}\n" for p in patterns)


def whole_context_copy(text: str, path: str, settings: LintSettings) -> tuple[int, int] | None:
    """The lines of the first whole-context COPY (TD101) of the Dockerfile text, if any."""
    dockerfile = parse(text, path)
    for finding in lint(dockerfile, settings):
        if finding.rule_id == "TD101" and isinstance(finding.location, FileLocation):
            line = finding.location.line
            for stage in dockerfile.stages:
                for instruction in stage.instructions:
                    if instruction.span.line == line:
                        return line, instruction.span.end_line
            return line, line
    return None


def propose(context: Path, dockerfile: Path) -> IgnoreProposal | None:
    """The additions for the context as the legacy builder sends it (what --verify builds);
    None when nothing sent is junk by name or the context cannot be read."""
    try:
        analysis = load_analysis(
            ContextRequest(context=context, dockerfile=dockerfile, builder=Builder.LEGACY)
        )
    except TrimdockError:
        return None
    names = {
        entry.path.rsplit("/", 1)[-1]
        for entry, sent in zip(analysis.tree.entries, analysis.selection.sent, strict=False)
        if sent and entry.path
    }
    patterns = deny_patterns(names)
    if not patterns:
        return None
    target = Path(analysis.ignore.path) if analysis.ignore.path else context / ".dockerignore"
    try:
        original = target.read_text(encoding="utf-8") if target.exists() else None
    except OSError:
        return None
    return IgnoreProposal(target, original, extended(original, patterns), patterns)


def as_fix(proposal: IgnoreProposal, lines: tuple[int, int], round_: int) -> AppliedFix:
    """The proposal as an applied fix of TD101 (no edit of the Dockerfile: the COPY's lines
    tell which layer it changes)."""
    names = ", ".join(p.removeprefix("**/") for p in proposal.patterns)
    fix = Fix(
        (),
        Applicability.UNSAFE,
        f"add to {proposal.path.name} what the whole-context COPY on line {lines[0]} "
        f"should not take: {names}",
        tuple(f"*/{p.removeprefix('**/')}" for p in proposal.patterns),
    )
    return AppliedFix("TD101", round_, lines[0], fix, (lines,))
