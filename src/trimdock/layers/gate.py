"""CI thresholds on the exact figures: `--max-waste BYTES|PCT` and `--min-efficiency`; on the
reclaim analysis: `--max-reclaimable BYTES|PCT` (certain reclaimable bytes) and
`--max-achievable-ratio` (size / achievable size).

Parsing is strict: a threshold that cannot be read is an error, never silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trimdock.errors import UsageError
from trimdock.layers.analysis import WasteAnalysis
from trimdock.layers.reclaim.classify import Achievable
from trimdock.report.units import parse_size

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


@dataclass(frozen=True, slots=True)
class WasteLimit:
    """Exact waste allowed: a byte count, or a percentage of the image size."""

    bytes: int | None = None
    percent: float | None = None

    def describe(self) -> str:
        return f"{self.percent:g}%" if self.percent is not None else f"{self.bytes} bytes"


@dataclass(frozen=True, slots=True)
class Thresholds:
    max_waste: WasteLimit | None = None
    min_efficiency: float | None = None  # a ratio, 0..1
    max_reclaimable: WasteLimit | None = None  # certain reclaimable bytes
    max_achievable_ratio: float | None = None  # size / achievable, >= 1

    @property
    def empty(self) -> bool:
        return self.max_waste is None and self.min_efficiency is None and not self.needs_reclaim

    @property
    def needs_reclaim(self) -> bool:
        return self.max_reclaimable is not None or self.max_achievable_ratio is not None


@dataclass(frozen=True, slots=True)
class GateCheck:
    """One threshold: `unit` is "bytes", "percent" (of the image size) or "ratio"."""

    name: str
    unit: str
    threshold: float
    actual: float
    passed: bool


@dataclass(frozen=True, slots=True)
class GateResult:
    checks: tuple[GateCheck, ...]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def parse_max_waste(value: str | int, *, source: str = "--max-waste") -> WasteLimit:
    """`1000000`, `50MB`, `20 MiB` (bytes) or `10%` (of the image size)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise UsageError(f"must not be negative, got {value}", source=source)
        return WasteLimit(bytes=value)
    text = str(value)
    percent = _PERCENT.match(text)
    if percent:
        pct = float(percent.group(1))
        if pct > 100:
            raise UsageError(f"a percentage must be at most 100, got {text!r}", source=source)
        return WasteLimit(percent=pct)
    size = parse_size(text)
    if size is None:
        raise UsageError(
            f"expected bytes (e.g. 50000000, 50MB, 20MiB) or a percentage (e.g. 10%), got {text!r}",
            source=source,
        )
    return WasteLimit(bytes=size)


def parse_min_efficiency(value: str | float | int, *, source: str = "--min-efficiency") -> float:
    """A ratio (`0.9`) or a percentage (`90%`); returned as a ratio between 0 and 1."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ratio = float(value)
    else:
        text = str(value)
        percent = _PERCENT.match(text)
        try:
            ratio = float(percent.group(1)) / 100 if percent else float(text)
        except ValueError:
            raise UsageError(
                f"expected a ratio (e.g. 0.9) or a percentage (e.g. 90%), got {text!r}",
                source=source,
            ) from None
    if not 0.0 <= ratio <= 1.0:
        raise UsageError(f"must be between 0 and 1 (or 0% and 100%), got {value!r}", source=source)
    return ratio


def parse_max_achievable_ratio(
    value: str | float | int, *, source: str = "--max-achievable-ratio"
) -> float:
    """How many times its achievable size an image may weigh: a number >= 1 (`1.5`)."""
    if isinstance(value, bool):
        ratio = None
    elif isinstance(value, (int, float)):
        ratio = float(value)
    else:
        try:
            ratio = float(str(value).strip())
        except ValueError:
            ratio = None
    if ratio is None or ratio != ratio or ratio < 1.0:
        raise UsageError(
            f"expected a ratio of size to achievable size of at least 1 (e.g. 1.5), got {value!r}",
            source=source,
        )
    return ratio


def evaluate(
    analysis: WasteAnalysis, thresholds: Thresholds, achievable: Achievable | None = None
) -> GateResult:
    """Check the exact figures (and, given `achievable`, the reclaim figures) against the
    thresholds."""
    checks: list[GateCheck] = []
    limit = thresholds.max_waste
    if limit is not None:
        if limit.percent is not None:
            pct = analysis.wasted_percent
            checks.append(
                GateCheck("max-waste", "percent", limit.percent, pct, pct <= limit.percent)
            )
        else:
            allowed = limit.bytes or 0
            wasted = analysis.wasted
            checks.append(GateCheck("max-waste", "bytes", allowed, wasted, wasted <= allowed))
    if thresholds.min_efficiency is not None:
        minimum = thresholds.min_efficiency
        efficiency = analysis.efficiency
        checks.append(
            GateCheck("min-efficiency", "ratio", minimum, efficiency, efficiency >= minimum)
        )
    if achievable is not None:
        checks.extend(_reclaim_checks(analysis, thresholds, achievable))
    return GateResult(tuple(checks))


def _reclaim_checks(
    analysis: WasteAnalysis, thresholds: Thresholds, achievable: Achievable
) -> list[GateCheck]:
    checks: list[GateCheck] = []
    limit = thresholds.max_reclaimable
    certain = achievable.certain
    if limit is not None:
        if limit.percent is not None:
            pct = 100.0 * certain / analysis.size if analysis.size else 0.0
            checks.append(
                GateCheck("max-reclaimable", "percent", limit.percent, pct, pct <= limit.percent)
            )
        else:
            allowed = limit.bytes or 0
            checks.append(
                GateCheck("max-reclaimable", "bytes", allowed, certain, certain <= allowed)
            )
    if thresholds.max_achievable_ratio is not None:
        maximum = thresholds.max_achievable_ratio
        ratio = achievable.size_ratio
        checks.append(GateCheck("max-achievable-ratio", "times", maximum, ratio, ratio <= maximum))
    return checks
