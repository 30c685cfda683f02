"""Text of `trimdock fix`: the unified diff, what was applied, the before/after table (pure)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from trimdock.fix.apply import AppliedFix, FixOutcome
from trimdock.fix.verify import Side, Verification

if TYPE_CHECKING:
    from trimdock.fix.verdict import Verdict
from trimdock.report.units import human_bytes

_SHOWN_PATHS = 10


def _diff(path: str, old: str | None, new: str) -> str:
    absolute = path.startswith("/")
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        # a/ and b/ as git writes them (`patch -p1` applies it); an absolute path as written
        fromfile=("/dev/null" if old is None else path if absolute else f"a/{path}"),
        tofile=path if absolute else f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def unified_diff(outcome: FixOutcome) -> str:
    """The Dockerfile's diff, then the ignore file's when additions are proposed."""
    text = _diff(outcome.path, outcome.original, outcome.text)
    if outcome.ignore is not None:
        text += _diff(str(outcome.ignore.path), outcome.ignore.original, outcome.ignore.text)
    return text


def summary(outcome: FixOutcome, *, written: bool) -> str:
    out: list[str] = []
    count = len(outcome.applied)
    if count:
        verb = "Fixed" if written else "Would fix"
        plural = "finding" if count == 1 else "findings"
        rounds = "round" if outcome.rounds == 1 else "rounds"
        out.append(f"{verb} {count} {plural} in {outcome.path} ({outcome.rounds} {rounds}):")
        for item in outcome.applied:
            out.append(
                f"  {item.rule_id} line {item.line} ({item.fix.applicability.value}): "
                f"{item.fix.description}"
            )
    else:
        out.append(f"Nothing to fix in {outcome.path}.")
    if outcome.unsafe_available:
        more = outcome.unsafe_available
        out.append(f"{more} more {'fix' if more == 1 else 'fixes'} with --unsafe-fixes.")
    return "\n".join(out) + "\n"


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def _rebuild(side: Side | None) -> str:
    if side is None or side.rebuild is None:
        return "-"
    build = side.rebuild
    return f"{_seconds(build.seconds)} ({build.steps - build.cached}/{build.steps} re-run)"


def _change(before: int, after: int, unit: bool) -> str:
    delta = after - before
    text = human_bytes(delta) if unit else f"{delta:+d}"
    if unit and delta > 0:
        text = "+" + text
    if before and unit:
        text += f" ({100.0 * delta / before:+.1f}%)"
    return text


def table(verification: Verification) -> str:
    before, after = verification.before, verification.after
    rows: list[tuple[str, str, str, str]] = [("", "before", "after", "change")]
    b, a = before.filesystem, after.filesystem if after else None
    rows.append(
        (
            "image size",
            human_bytes(b.size),
            human_bytes(a.size) if a else "-",
            _change(b.size, a.size, True) if a else "",
        )
    )
    rows.append(
        (
            "layers",
            str(b.layers),
            str(a.layers) if a else "-",
            _change(b.layers, a.layers, False) if a else "",
        )
    )
    rows.append(
        (
            "wasted bytes",
            human_bytes(b.wasted),
            human_bytes(a.wasted) if a else "-",
            _change(b.wasted, a.wasted, True) if a else "",
        )
    )
    rows.append(
        (
            "build time",
            _seconds(before.build.seconds),
            _seconds(after.build.seconds) if after else "-",
            "",
        )
    )
    if verification.touched is not None:
        rows.append(
            (f"rebuild after editing {verification.touched}", _rebuild(before), _rebuild(after), "")
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def verdict(verification: Verification) -> str:
    if verification.failure is not None:
        return f"Rejected: the fixed Dockerfile does not build:\n{verification.failure}\n"
    comparison = verification.comparison
    assert comparison is not None
    out = [
        f"Filesystem: {len(comparison.lost)} paths removed, {len(comparison.added)} added, "
        f"{len(comparison.changed)} changed."
    ]
    if comparison.unexpected:
        count = len(comparison.unexpected)
        out.append(
            f"Rejected: the fixed image lost {count} {'path' if count == 1 else 'paths'} "
            "no fix meant to remove:"
        )
        out.extend(f"  {path}" for path in comparison.unexpected[:_SHOWN_PATHS])
        if count > _SHOWN_PATHS:
            out.append(f"  ... and {count - _SHOWN_PATHS} more")
    else:
        out.append("Verified: every removed path is one the fixes meant to remove.")
    return "\n".join(out) + "\n"


# -- --format json ---------------------------------------------------------------------------------

SCHEMA = "trimdock/fix/1"


def _fix_json(item: AppliedFix, status: str) -> dict[str, Any]:
    return {
        "rule": item.rule_id,
        "status": status,
        "applicability": item.fix.applicability.value,
        "description": item.fix.description,
        "round": item.round,
        "line": item.line,
        "edits": [{"first_line": a, "last_line": b} for a, b in item.lines],
        "removes": list(item.fix.removes),
    }


def _side_json(side: Side | None) -> dict[str, Any] | None:
    if side is None:
        return None
    rebuild = side.rebuild
    return {
        "size": side.filesystem.size,
        "layers": side.filesystem.layers,
        "wasted": side.filesystem.wasted,
        "build_seconds": round(side.build.seconds, 3),
        "rebuild": None
        if rebuild is None
        else {
            "seconds": round(rebuild.seconds, 3),
            "steps": rebuild.steps,
            "rerun": rebuild.steps - rebuild.cached,
        },
    }


def verification_json(verification: Verification) -> dict[str, Any]:
    comparison = verification.comparison
    return {
        "accepted": verification.accepted,
        "failure": verification.failure,
        "touched": verification.touched,
        "before": _side_json(verification.before),
        "after": _side_json(verification.after),
        "removed": list(comparison.lost) if comparison else [],
        "added": list(comparison.added) if comparison else [],
        "changed": list(comparison.changed) if comparison else [],
        "lost": list(comparison.unexpected) if comparison else [],
    }


def document(
    outcome: FixOutcome,
    *,
    written: bool,
    rejected: Sequence[AppliedFix] = (),
    verification: Verification | None = None,
    first: Verification | None = None,
    diff: str | None = None,
) -> dict[str, Any]:
    """The `--format json` report: every fix with its verdict, and the verification."""
    fixes = [_fix_json(a, "applied") for a in outcome.applied if a not in rejected]
    fixes += [_fix_json(a, "rejected") for a in rejected]
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "file": outcome.path,
        "changed": outcome.changed,
        "written": written,
        "rounds": outcome.rounds,
        "unsafe_available": outcome.unsafe_available,
        "fixes": fixes,
        "verification": verification_json(verification) if verification else None,
        "first_verification": verification_json(first) if first else None,
    }
    if diff is not None:
        data["diff"] = diff
    return data


def retry_note(verdict_: Verdict) -> str:
    """What the retry dropped (the fixes that explain the loss) before the second table."""
    kept = {a.key for a in verdict_.outcome.applied}
    dropped = [a for a in verdict_.rejected if a.key not in kept] or list(verdict_.rejected)
    out = [
        f"Retrying without {len(dropped)} {'fix' if len(dropped) == 1 else 'fixes'}"
        " that explain the loss:"
    ]
    out.extend(f"  {a.rule_id}: {a.fix.description}" for a in dropped)
    return "\n".join(out) + "\n"
