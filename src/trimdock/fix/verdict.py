"""Per-fix verdicts under `fix --verify`: when the combined rewrite is rejected for lost paths,
name the fixes that explain the loss and verify once more without them, so one bad fix does not
discard the good ones. One retry round at most: the second verification decides, whatever it
says.

Attribution (pure): a lost path is explained by a fix when the fix edited the instruction that
made the path's layer in the original image (its history names the instruction; lines are those
of the original text, so only first-round fixes are placed this way), or when the path lies in
the folder one of the fix's `removes` patterns points into.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from trimdock.dockerfile import parse
from trimdock.dockerfile.model import Dockerfile
from trimdock.fix.apply import AppliedFix, FixOutcome
from trimdock.fix.text import apply_edits
from trimdock.fix.verify import Verification, verify

# Instructions the legacy builder and BuildKit commit as a layer.
_LAYER_KEYWORDS = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})

Refix = Callable[[frozenset[str]], FixOutcome]


@dataclass(frozen=True)
class Verdict:
    outcome: FixOutcome  # what is written when accepted (the retried rewrite after a retry)
    verification: Verification  # the verification that decided
    rejected: tuple[AppliedFix, ...]  # fixes dropped (all of them when nothing passed)
    first: Verification | None = None  # the combined verification, when a retry followed

    @property
    def accepted(self) -> bool:
        return self.verification.accepted and self.outcome.changed


def _keyword(step: str) -> str:
    word = step.split(None, 1)[0].upper() if step.strip() else ""
    # A RUN under another SHELL is recorded as its command line: call it a RUN.
    return word if word in _LAYER_KEYWORDS else "RUN"


def layer_lines(original: Dockerfile, steps: Sequence[str]) -> dict[int, tuple[int, int]]:
    """The (first, last) line of the final-stage instruction that made each layer above the
    base: the history's layer-making steps matched in order with the stage's instructions."""
    stage = original.final_stage
    if stage is None:
        return {}
    instructions = [i for i in stage.instructions if i.keyword in _LAYER_KEYWORDS]
    made: dict[int, tuple[int, int]] = {}
    position = len(instructions) - 1
    # From the top: the stage's last layer-making instruction made the image's last layer
    # (the base's own layers, below, are matched by nothing).
    for layer in range(len(steps) - 1, -1, -1):
        keyword = _keyword(steps[layer])
        while position >= 0 and instructions[position].keyword != keyword:
            if keyword == "WORKDIR":
                break
            position -= 1
        if position < 0:
            break
        if instructions[position].keyword != keyword:
            continue  # a WORKDIR layer the stage does not show (an inherited one)
        span = instructions[position].span
        made[layer] = (span.line, span.end_line)
        position -= 1
    return made


def _folder(pattern: str) -> str | None:
    """The literal folder a `removes` pattern points into (None when it names none)."""
    if ":" in pattern:
        return None
    literal = pattern
    for i, c in enumerate(pattern):
        if c in "*?[":
            literal = pattern[:i]
            break
    folder = posixpath.dirname(literal.rstrip("/")) if literal == pattern else literal
    folder = folder.rstrip("/")
    return folder if folder.count("/") >= 2 else None  # never "/" or a top folder alone


def suspects(
    applied: Sequence[AppliedFix],
    lost: Sequence[str],
    layer_of: dict[str, int],
    made: dict[int, tuple[int, int]],
) -> tuple[AppliedFix, ...]:
    """The applied fixes that explain some lost path."""
    found: list[AppliedFix] = []
    for fix in applied:
        folders = [f for f in map(_folder, fix.fix.removes) if f]
        for path in lost:
            lines = made.get(layer_of.get(path, -1))
            by_layer = (
                fix.round == 1
                and lines is not None
                and any(first <= lines[1] and lines[0] <= last for first, last in fix.lines)
            )
            by_folder = any(path.startswith(folder + "/") for folder in folders)
            if by_layer or by_folder:
                found.append(fix)
                break
    return tuple(found)


def without(outcome: FixOutcome, dropped: Collection[AppliedFix], refix: Refix) -> FixOutcome:
    """The rewrite without `dropped`: the kept edits replayed on the original when every fix
    came in the first round (their offsets are the original's), otherwise fixed afresh."""
    kept = tuple(a for a in outcome.applied if a not in dropped)
    ignore_fix = next((a for a in kept if a.rule_id == "TD101" and not a.fix.edits), None)
    ignore = outcome.ignore if ignore_fix is not None else None
    if all(a.round == 1 or not a.fix.edits for a in outcome.applied):
        text = apply_edits(outcome.original, [e for a in kept for e in a.fix.edits])
        rounds = 1 if any(a.fix.edits for a in kept) else 0
        return replace(outcome, text=text, applied=kept, rounds=rounds, ignore=ignore)
    again = refix(frozenset(a.key for a in dropped))
    if ignore_fix is None or any(a.rule_id == "TD101" for a in again.applied):
        return again  # the refix proposes TD101's fix itself (`trimdock fix` does)
    return replace(again, applied=(*again.applied, ignore_fix), ignore=ignore)


def decide(
    context: Path,
    outcome: FixOutcome,
    refix: Refix,
    *,
    tag: str,
    keep_images: bool = False,
) -> Verdict:
    """Verify the rewrite; when it loses paths no fix meant to remove, verify once more
    without the fixes that explain the loss."""
    first = verify(context, outcome, tag=tag, keep_images=keep_images)
    if first.accepted:
        return Verdict(outcome, first, ())
    comparison = first.comparison
    if comparison is None or first.after is None:  # the fixed file did not build
        return Verdict(outcome, first, outcome.applied)
    original = parse(outcome.original, outcome.path)
    made = layer_lines(original, first.before.filesystem.steps)
    blamed = suspects(
        outcome.applied, comparison.unexpected, first.before.filesystem.layer_of, made
    )
    if not blamed or len(blamed) == len(outcome.applied):
        return Verdict(outcome, first, outcome.applied)
    retried = without(outcome, blamed, refix)
    if not retried.changed:
        return Verdict(retried, first, outcome.applied, first)
    second = verify(context, retried, tag=f"{tag}-retry", keep_images=keep_images)
    if not second.accepted:
        return Verdict(retried, second, outcome.applied, first)
    dropped = tuple(a for a in outcome.applied if a.key not in {k.key for k in retried.applied})
    return Verdict(retried, second, dropped, first)
