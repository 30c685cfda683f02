"""Licences of Debian packages: `usr/share/doc/PACKAGE/copyright` in the machine-readable
format (DEP-5, https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/). Only its
`License:` fields are read (the first line of each: the short name or expression); a file
that does not declare the format gives no licence (unknown), never a guess from free text.
"""

from __future__ import annotations

_FORMAT_PREFIX = "format:"
_FORMAT_URL = "copyright-format/1.0"


def dep5_licences(data: bytes) -> str:
    """The licences a DEP-5 copyright file names (each once, in order, joined with AND), or ""."""
    text = data.decode("utf-8", "replace")
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), "")
    if not header.lower().startswith(_FORMAT_PREFIX) or _FORMAT_URL not in header:
        return ""
    found: dict[str, None] = {}
    for line in lines:
        if line[:8].lower() == "license:":
            name = line[8:].strip()
            if name:
                found.setdefault(name, None)
    return " AND ".join(found)
