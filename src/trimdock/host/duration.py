"""Durations as people write them for retention: `30d`, `12h`, `1w2d`, `90m`, `45s`."""

from __future__ import annotations

import re
from datetime import timedelta

from trimdock.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)([smhdw])")
# A century: longer than any image or container has existed, far below timedelta's limit
# (999999999 days, where `99999999999999999999d` used to crash). Beyond it a duration is a typo.
MAX_DURATION = timedelta(days=36500)
MAX_DURATION_TEXT = "36500d"
_MAX_SECONDS = int(MAX_DURATION.total_seconds())


def parse_duration(text: str, *, source: str = "duration") -> timedelta:
    """Parse `1w2d3h`; a bare number is refused because its unit would be a guess."""
    cleaned = text.strip().lower()
    if not cleaned:
        raise UsageError("empty duration (use e.g. 30d, 12h, 1w2d)", source=source)
    position = 0
    seconds = 0
    for match in _PART.finditer(cleaned):
        if match.start() != position:
            break
        digits = match.group(1).lstrip("0") or "0"
        # More digits than the limit in seconds cannot be in range: stop before int() has to
        # convert a 5000-digit number (Python refuses those with a ValueError).
        if len(digits) > len(str(_MAX_SECONDS)):
            raise _too_long(text, source)
        seconds += int(digits) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(cleaned):
        raise UsageError(
            f"invalid duration {text!r} (use a number and a unit s, m, h, d or w, e.g. 30d, 1w2d)",
            source=source,
        )
    if seconds > _MAX_SECONDS:
        raise _too_long(text, source)
    return timedelta(seconds=seconds)


def _too_long(text: str, source: str) -> UsageError:
    return UsageError(
        f"duration {text!r} is too long (at most {MAX_DURATION_TEXT}, a century)", source=source
    )


def format_duration(value: timedelta) -> str:
    """An exact form people read easily: 2w, 25d, 1d12h, 90m -> 1h30m."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    if seconds % _UNITS["w"] == 0:
        return f"{seconds // _UNITS['w']}w"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def format_age(value: timedelta) -> str:
    """A rounded age for tables: 45s, 12m, 5h, 3d, 11w."""
    seconds = max(0, int(value.total_seconds()))
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (8 if unit == "w" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
