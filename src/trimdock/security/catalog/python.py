"""Python: core metadata (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, `*.egg-info` files)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trimdock.security.catalog.records import Record

if TYPE_CHECKING:
    from email.message import Message

_CLASSIFIER = "License :: "


def parse_python_metadata(data: bytes) -> list[Record]:
    """The distribution in a core metadata file (headers only; the body is the README)."""
    # Imported here: `canonical_name` is used by every scan, the email parser only by images
    # with Python packages.
    from email.parser import HeaderParser

    headers, _, _ = data.partition(b"\n\n")
    message = HeaderParser().parsestr(headers.decode("utf-8", "replace"))
    name = (message.get("Name") or "").strip()
    version = (message.get("Version") or "").strip()
    if not name or not version:
        return []
    return [Record(name=name, version=version, licence=_licence(message))]


def _licence(message: Message) -> str:
    expression = str(message.get("License-Expression") or "").strip()
    if expression:
        return expression
    classifiers = [
        str(c).split(" :: ")[-1].strip()
        for c in message.get_all("Classifier") or []
        if str(c).startswith(_CLASSIFIER) and str(c).count(" :: ") >= 2
    ]
    if classifiers:
        return " AND ".join(dict.fromkeys(classifiers))
    free_text = str(message.get("License") or "").strip()
    # A whole licence text pasted into the field is not a name.
    return "" if "\n" in free_text or len(free_text) > 80 or free_text == "UNKNOWN" else free_text


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name (how PyPI and OSV key Python packages)."""
    out = []
    previous_sep = False
    for char in name.lower():
        if char in "-_.":
            if not previous_sep:
                out.append("-")
            previous_sep = True
        else:
            out.append(char)
            previous_sep = False
    return "".join(out)
