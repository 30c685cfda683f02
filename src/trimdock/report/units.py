"""Human-readable numbers for text output (JSON always carries raw numbers), and the one parser
of sizes people write (`50MB`, `20 MiB`, `1000000`)."""

from __future__ import annotations

import re

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d{1,30}(?:\.\d{1,30})?)\s*([a-zA-Z]{0,3})\s*$")


def parse_size(value: str | int) -> int | None:
    """Bytes from `1000000`, `50MB`, `20 MiB` (decimal kB/MB as docker prints, binary KiB/MiB);
    None when `value` is not a size. The caller says what was wrong, and where."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    size = _SIZE.match(value)
    unit = size.group(2).lower() if size else ""
    if not size or unit not in _SIZE_UNITS:
        return None
    return int(float(size.group(1)) * _SIZE_UNITS[unit])


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


def count(number: int, noun: str, plural: str | None = None) -> str:
    """`1 file`, `2 files`, `0 files` (`plural` for the irregular ones: entry/entries)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def percent(part: int | float, whole: int | float) -> float:
    """`part` as a percentage of `whole`; 0 when `whole` is 0."""
    return 100.0 * part / whole if whole else 0.0
