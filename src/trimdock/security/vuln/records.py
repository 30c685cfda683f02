"""OSV records, parsed into the few fields matching needs (schema: ossf/osv-schema)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trimdock.errors import TrimdockError


class OsvRecordError(TrimdockError):
    """A file in a vulnerability database that is not an OSV record."""


@dataclass(frozen=True)
class Event:
    kind: str  # introduced, fixed, last_affected, limit
    version: str


@dataclass(frozen=True)
class Range:
    type: str  # ECOSYSTEM, SEMVER, GIT
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Affected:
    ecosystem: str  # as in the record: "PyPI", "Debian:12", "Alpine:v3.19"
    name: str
    ranges: tuple[Range, ...]
    versions: frozenset[str]
    severity: str = ""  # ecosystem_specific / database_specific severity of this package
    # SUSE/openSUSE: the binary rpms the fixed source ships (`ecosystem_specific.binaries`).
    binaries: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OsvRecord:
    id: str
    aliases: tuple[str, ...]
    summary: str
    modified: str
    withdrawn: bool
    severity: tuple[tuple[str, str], ...]  # (CVSS_V2|CVSS_V3|CVSS_V4|Ubuntu, score)
    database_severity: str
    affected: tuple[Affected, ...]
    source: str = ""


_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _severity_word(block: Any) -> str:
    if isinstance(block, Mapping):
        for key in ("severity", "urgency"):
            value = block.get(key)
            if isinstance(value, str):
                return value
    return ""


def parse_record(document: Any, *, source: str) -> OsvRecord:
    """An `OsvRecord` from a parsed JSON/YAML document; `OsvRecordError` when it is not one."""
    if not isinstance(document, Mapping) or not isinstance(document.get("id"), str):
        raise OsvRecordError("not an OSV record (no string 'id')", source=source)
    try:
        affected = tuple(_affected(item) for item in document.get("affected") or ())
        severity = tuple(
            (_text(item.get("type")), _text(item.get("score")))
            for item in document.get("severity") or ()
            if isinstance(item, Mapping)
        )
    except (AttributeError, TypeError) as exc:
        raise OsvRecordError(f"malformed OSV record: {exc}", source=source) from None
    return OsvRecord(
        id=document["id"],
        aliases=tuple(a for a in document.get("aliases") or () if isinstance(a, str)),
        summary=_text(document.get("summary")) or _first_line(_text(document.get("details"))),
        modified=_text(document.get("modified")),
        withdrawn=bool(document.get("withdrawn")),
        severity=severity,
        database_severity=_severity_word(document.get("database_specific")),
        affected=affected,
        source=source,
    )


def _first_line(text: str) -> str:
    line = text.strip().split("\n", 1)[0]
    return line[:200]


def _affected(item: Mapping[str, Any]) -> Affected:
    package = item.get("package") or {}
    ranges = []
    for raw in item.get("ranges") or ():
        events = []
        for event in raw.get("events") or ():
            for kind in _EVENT_KINDS:
                if kind in event:
                    events.append(Event(kind, _text(event[kind])))
        ranges.append(Range(_text(raw.get("type")), tuple(events)))
    return Affected(
        ecosystem=_text(package.get("ecosystem")),
        name=_text(package.get("name")),
        ranges=tuple(ranges),
        versions=frozenset(_text(v) for v in item.get("versions") or ()),
        severity=_severity_word(item.get("ecosystem_specific"))
        or _severity_word(item.get("database_specific")),
        binaries=_binaries(item.get("ecosystem_specific")),
    )


def _binaries(block: Any) -> frozenset[str]:
    """`binaries` as SUSE writes it: a list of {binary name: version} maps (plain names are
    taken too)."""
    if not isinstance(block, Mapping) or not isinstance(block.get("binaries"), list):
        return frozenset()
    names: set[str] = set()
    for item in block["binaries"]:
        if isinstance(item, Mapping):
            names.update(k for k in item if isinstance(k, str))
        elif isinstance(item, str):
            names.add(item)
    return frozenset(names)
