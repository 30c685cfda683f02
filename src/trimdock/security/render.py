"""Text and JSON reports of a scan (formats only: everything here is computed elsewhere)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.markup import escape

from trimdock.security.model import Package
from trimdock.security.scanner import ScanResult

SCHEMA = "trimdock/scan/1"


def package_json(package: Package) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": package.name,
        "version": package.version,
        "ecosystem": package.ecosystem.value,
        "purl": package.purl,
        "licence": package.licence or None,
        "path": "/" + package.path,
        "layer": package.layer,
        "instruction": package.instruction,
        "deleted": package.deleted,
    }
    if package.source_name:
        data["source"] = {"name": package.source_name, "version": package.source_version}
    return data


def scan_json(result: ScanResult) -> dict[str, Any]:
    inventory = result.inventory
    os = inventory.os
    return {
        "schema": SCHEMA,
        "image": result.image.reference,
        "config_digest": result.image.config_digest,
        "os": None
        if os is None
        else {
            "id": os.id,
            "version_id": os.version_id,
            "pretty_name": os.pretty_name,
            "codename": os.codename,
            "eol": os.eol.isoformat() if os.eol else None,
            "layer": os.layer,
        },
        "packages": [package_json(p) for p in inventory.packages],
    }


def render_scan(console: Console, result: ScanResult) -> None:
    inventory = result.inventory
    console.print(f"Image {escape(result.image.reference)}")
    os = inventory.os
    if os is not None:
        eol = f", end of life {os.eol.isoformat()}" if os.eol else ", end of life unknown"
        console.print(f"OS {escape(os.pretty_name)}{eol}")
    counts = Counter(p.ecosystem.value for p in inventory.visible)
    summary = ", ".join(f"{n} {eco}" for eco, n in sorted(counts.items())) or "none"
    deleted = sum(1 for p in inventory.packages if p.deleted)
    console.print(
        f"Packages {len(inventory.visible)} ({summary}); {deleted} deleted by a later layer"
    )
