"""Severity of a vulnerability: computed from its CVSS vectors, else the record's own word."""

from __future__ import annotations

from enum import StrEnum

from trimdock.security.vuln.records import OsvRecord


class Level(StrEnum):
    UNKNOWN = "unknown"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @classmethod
    def parse(cls, text: str) -> Level:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(level.value for level in cls if level is not cls.UNKNOWN)
            raise ValueError(f"unknown severity {text!r} (one of: {names})") from None


def level_of_score(score: float) -> Level:
    """CVSS v3/v4 qualitative rating scale (FIRST)."""
    if score >= 9.0:
        return Level.CRITICAL
    if score >= 7.0:
        return Level.HIGH
    if score >= 4.0:
        return Level.MEDIUM
    if score > 0.0:
        return Level.LOW
    return Level.UNKNOWN


# Words records use (GHSA, Debian urgency, Ubuntu priority) on trimdock's scale.
_WORDS = {
    "critical": Level.CRITICAL,
    "high": Level.HIGH,
    "important": Level.HIGH,
    "moderate": Level.MEDIUM,
    "medium": Level.MEDIUM,
    "low": Level.LOW,
    "negligible": Level.LOW,
    "unimportant": Level.LOW,
}


def cvss_score(kind: str, vector: str) -> float | None:
    """The base score of a CVSS vector, computed; None when the vector does not parse."""
    # Imported when a record carries a vector: scans without a database never need it.
    from cvss import CVSS2, CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    try:
        if kind == "CVSS_V4" or vector.startswith("CVSS:4"):
            return float(CVSS4(vector).base_score)
        if kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            return float(CVSS3(vector).scores()[0])
        if kind == "CVSS_V2":
            return float(CVSS2(vector).scores()[0])
    except (CVSSError, ValueError, KeyError, IndexError):
        return None
    return None


def record_severity(record: OsvRecord, package_word: str = "") -> tuple[Level, float | None]:
    """(level, best base score): the highest computed CVSS score decides; without a vector,
    the record's database or package severity word."""
    scores = [s for kind, vector in record.severity if (s := cvss_score(kind, vector)) is not None]
    if scores:
        best = max(scores)
        return level_of_score(best), best
    for word in (record.database_severity, package_word):
        level = _WORDS.get(word.strip().lower())
        if level is not None:
            return level, None
    return Level.UNKNOWN, None
