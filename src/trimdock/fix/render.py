"""Text of `trimdock fix`: the unified diff, what was applied, the before/after table (pure)."""

from __future__ import annotations

import difflib

from trimdock.fix.apply import FixOutcome
from trimdock.fix.verify import Side, Verification
from trimdock.report.units import human_bytes

_SHOWN_PATHS = 10


def unified_diff(outcome: FixOutcome) -> str:
    absolute = outcome.path.startswith("/")
    lines = difflib.unified_diff(
        outcome.original.splitlines(keepends=True),
        outcome.text.splitlines(keepends=True),
        # a/ and b/ as git writes them (`patch -p1` applies it); an absolute path as written
        fromfile=outcome.path if absolute else f"a/{outcome.path}",
        tofile=outcome.path if absolute else f"b/{outcome.path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


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
