"""Human-readable numbers for text output (JSON always carries raw numbers)."""

from __future__ import annotations


def human_bytes(value: int | float) -> str:
    """Decimal units as docker prints them: 1 kB = 1000 B."""
    sign = "-" if value < 0 else ""
    size = float(abs(value))
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            if unit == "B":
                return f"{sign}{int(size)} B"
            return f"{sign}{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def percent(part: int | float, whole: int | float) -> float:
    """`part` as a percentage of `whole`; 0 when `whole` is 0."""
    return 100.0 * part / whole if whole else 0.0
