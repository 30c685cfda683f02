"""What a cataloger reads from one file, before the inventory attributes it to layers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    """One package as a database or metadata file records it."""

    name: str
    version: str
    licence: str = ""
    source_name: str = ""
    source_version: str = ""
    arch: str = ""
    extra: tuple[tuple[str, str], ...] = ()


def stanzas(text: str) -> list[dict[str, str]]:
    """Blank-line separated `Key: value` paragraphs (dpkg status, Debian control files).

    Continuation lines (starting with a space or tab) belong to the previous field; only the
    first line of each field is kept, the rest (descriptions, conffiles) is not needed.
    """
    result: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                result.append(current)
                current = {}
            continue
        if line[0] in " \t":
            continue
        key, sep, value = line.partition(":")
        if sep:
            current[key.strip()] = value.strip()
    if current:
        result.append(current)
    return result
