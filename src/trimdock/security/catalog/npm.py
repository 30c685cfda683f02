"""npm: `node_modules/**/package.json` of installed packages."""

from __future__ import annotations

import json
from typing import Any

from trimdock.security.catalog.records import Record


def parse_package_json(data: bytes) -> list[Record]:
    """The package a `package.json` describes; broken or nameless files give nothing."""
    try:
        document: Any = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        return []
    if not isinstance(document, dict):
        return []
    name = document.get("name")
    version = document.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return []
    return [Record(name=name, version=version, licence=_licence(document.get("license")))]


def _licence(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return str(value["type"])
    return ""
