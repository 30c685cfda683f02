"""Fixes attached to findings, and applied in rounds until the file is stable (as ruff does).

Each round lints the current text, asks the providers for a fix per finding, keeps the fixes
that (alone) leave a file that parses as well as before and lose their finding, applies the
ones that do not overlap, and starts again; overlapping fixes wait for the next round, whose
offsets are fresh. Rounds are bounded, so a fix that keeps producing work cannot loop.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from trimdock.dockerfile import parse
from trimdock.dockerfile.model import Dockerfile
from trimdock.fix.providers import PROVIDERS, Target
from trimdock.fix.providers.base import MemberReader, no_context
from trimdock.fix.text import LineIndex, apply_edits, overlaps
from trimdock.report.finding import Applicability, FileLocation, Finding, Fix
from trimdock.rules.analysis import Analysis
from trimdock.rules.engine import LintSettings, lint

if TYPE_CHECKING:
    from trimdock.fix.dockerignore import IgnoreProposal

MAX_ROUNDS = 12
_LINE_NUMBERS = re.compile(r"\blines? \d+")


@dataclass(frozen=True)
class AppliedFix:
    rule_id: str
    round: int
    line: int  # the finding's line in the text of that round
    fix: Fix
    # The (first, last) line each edit replaces, in the text of that round (an insertion
    # covers the line it is inserted on).
    lines: tuple[tuple[int, int], ...] = ()

    @property
    def key(self) -> str:
        """The fix, named without its line numbers (they move when another fix is dropped)."""
        return f"{self.rule_id}:{_LINE_NUMBERS.sub('line N', self.fix.description)}"


@dataclass(frozen=True)
class FixOutcome:
    path: str
    original: str
    text: str
    applied: tuple[AppliedFix, ...]
    unsafe_available: int  # fixes left out because they are unsafe (see --unsafe-fixes)
    rounds: int
    # `.dockerignore` additions for a whole-context COPY (TD101's fix), when proposed.
    ignore: IgnoreProposal | None = None

    @property
    def changed(self) -> bool:
        return self.text != self.original or self.ignore is not None

    @property
    def removes(self) -> tuple[str, ...]:
        """What the applied fixes meant to remove from the image, together."""
        return tuple(sorted({item for a in self.applied for item in a.fix.removes}))


def attach_fixes(
    dockerfile: Dockerfile,
    findings: Sequence[Finding],
    settings: LintSettings | None = None,
    members: MemberReader = no_context,
) -> list[Finding]:
    """`findings` with `autofix` set where a provider knows a rewrite (`members` reads the
    archives of the build context, when it is known)."""
    options = (settings or LintSettings()).options
    target = Target(dockerfile, Analysis.build(dockerfile, options), members)
    attached: list[Finding] = []
    for finding in findings:
        provider = PROVIDERS.get(finding.rule_id)
        fix = provider(target, finding) if provider is not None else None
        attached.append(replace(finding, autofix=fix) if fix is not None else finding)
    return attached


def _parser_errors(dockerfile: Dockerfile) -> int:
    return sum(1 for issue in dockerfile.issues if issue.parser_error)


def _line(finding: Finding) -> int:
    return finding.location.line if isinstance(finding.location, FileLocation) else 0


def _holds(
    text: str, path: str, finding: Finding, settings: LintSettings, errors: int, before: int
) -> bool:
    """The fix of `finding`, applied alone, keeps the file parsing and removes a finding of
    its rule (so applying it again finds nothing: fixing is idempotent)."""
    assert finding.autofix is not None
    fixed = parse(apply_edits(text, finding.autofix.edits), path)
    if _parser_errors(fixed) > errors:
        return False
    after = sum(1 for f in lint(fixed, settings) if f.rule_id == finding.rule_id)
    return after < before


def edit_lines(index: LineIndex, fix: Fix) -> tuple[tuple[int, int], ...]:
    ranges: list[tuple[int, int]] = []
    for edit in fix.edits:
        first = index.line_at(edit.start)
        last = index.line_at(max(edit.start, edit.end - 1)) if edit.end > edit.start else first
        ranges.append((first, last))
    return tuple(ranges)


def fix_text(
    text: str,
    path: str = "Dockerfile",
    settings: LintSettings | None = None,
    *,
    unsafe: bool,
    exclude: Collection[str] = (),
    members: MemberReader = no_context,
) -> FixOutcome:
    """Apply every safe fix (and the unsafe ones with `unsafe`) in rounds until stable;
    fixes whose `AppliedFix.key` is in `exclude` are left out (a retry after a rejection)."""
    settings = settings or LintSettings()
    current = text
    applied: list[AppliedFix] = []
    unsafe_left = 0
    rounds = 0
    for number in range(1, MAX_ROUNDS + 1):
        dockerfile = parse(current, path)
        findings = attach_fixes(dockerfile, lint(dockerfile, settings), settings, members)
        errors = _parser_errors(dockerfile)
        counts: dict[str, int] = {}
        for finding in findings:
            counts[finding.rule_id] = counts.get(finding.rule_id, 0) + 1
        chosen: list[Finding] = []
        unsafe_left = 0
        for finding in findings:
            fix = finding.autofix
            if fix is None:
                continue
            if fix.applicability is Applicability.UNSAFE and not unsafe:
                unsafe_left += 1
                continue
            if AppliedFix(finding.rule_id, number, 0, fix).key in exclude:
                continue
            if any(overlaps(fix.edits, c.autofix.edits) for c in chosen if c.autofix):
                continue  # the next round, on the text this round leaves
            if _holds(current, path, finding, settings, errors, counts[finding.rule_id]):
                chosen.append(finding)
        if not chosen:
            break
        rounds = number
        index = LineIndex(current)
        applied.extend(
            AppliedFix(c.rule_id, number, _line(c), c.autofix, edit_lines(index, c.autofix))
            for c in chosen
            if c.autofix
        )
        edits = [edit for c in chosen if c.autofix for edit in c.autofix.edits]
        current = apply_edits(current, edits)
    return FixOutcome(path, text, current, tuple(applied), unsafe_left, rounds)
