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


def parse_package_lock(data: bytes) -> list[Record]:
    """The packages of a `package-lock.json` (lockfileVersion 2 and 3: the `packages` map,
    keyed by install path; the root project, key "", is not a dependency). Version 1 locks
    (`dependencies` only) give nothing."""
    try:
        document: Any = json.loads(data.decode("utf-8", "replace"))
    except ValueError:
        return []
    packages = document.get("packages") if isinstance(document, dict) else None
    if not isinstance(packages, dict):
        return []
    records: dict[tuple[str, str], Record] = {}
    for key, entry in packages.items():
        if not isinstance(key, str) or not key or not isinstance(entry, dict):
            continue
        if entry.get("link") is True:
            continue  # a workspace symlink: its target is another key
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            # The name is the path after the last node_modules/ (scoped names keep their @scope).
            _, found, name = key.rpartition("node_modules/")
            if not found:
                continue
        version = entry.get("version")
        if not isinstance(version, str) or not version:
            continue
        records.setdefault(
            (name, version),
            Record(name=name, version=version, licence=_licence(entry.get("license"))),
        )
    return list(records.values())
