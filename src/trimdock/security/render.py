"""Text and JSON reports of a scan (formats only: everything here is computed elsewhere)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from trimdock.report.finding import Finding
from trimdock.security.model import Package
from trimdock.security.policy import Violation
from trimdock.security.scanner import ScanResult
from trimdock.security.vuln.match import Vulnerability

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


def vulnerability_json(vuln: Vulnerability) -> dict[str, Any]:
    return {
        "id": vuln.id,
        "ids": list(vuln.ids),
        "cves": list(vuln.cves),
        "package": vuln.package.name,
        "version": vuln.package.version,
        "ecosystem": vuln.package.ecosystem.value,
        "purl": vuln.package.purl,
        "layer": vuln.package.layer,
        "deleted": vuln.package.deleted,
        "severity": vuln.level.value,
        "score": vuln.score,
        "fixed": vuln.fixed,
        "summary": vuln.summary,
    }


def scan_json(
    result: ScanResult,
    findings: Sequence[Finding],
    violations: Sequence[Violation] | None,
    *,
    database: Sequence[str],
    reveal: bool,
) -> dict[str, Any]:
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
            "eol_source": os.eol_source or None,
            "eol_confirmed": os.eol_confirmed,
            "layer": os.layer,
        },
        "packages": [package_json(p) for p in inventory.packages],
        "notes": list(inventory.notes),
        "database": list(database),
        "vulnerabilities": None
        if result.vulnerabilities is None
        else [vulnerability_json(v) for v in result.vulnerabilities],
        "surface": [
            {
                "category": item.category.value,
                "path": "/" + item.path if item.path else None,
                "layer": item.layer if item.layer >= 0 else None,
                "detail": item.detail,
            }
            for item in result.surface
        ],
        "secrets": [
            {
                "kind": s.kind,
                "where": s.where,
                "path": "/" + s.path if s.where == "file" else s.path,
                "layer": s.layer if s.layer >= 0 else None,
                "line": s.line if s.where == "file" else None,
                "deleted": s.deleted,
                "value": s.shown(reveal),
                "fingerprint": s.fingerprint,
            }
            for s in result.secrets
        ],
        "policy": None
        if violations is None
        else {
            "passed": not violations,
            "violations": [
                {"rule": v.rule, "message": v.message, "path": v.path, "layer": v.layer}
                for v in violations
            ],
        },
        "findings": [f.to_json() for f in findings],
    }


def summary_lines(result: ScanResult, database: Sequence[str]) -> list[str]:
    """The header of the text report: OS, package counts, what the vulnerability check used."""
    inventory = result.inventory
    lines = [f"Image {result.image.reference}"]
    os = inventory.os
    if os is not None:
        eol = f", end of life {os.eol.isoformat()}" if os.eol else ", end of life unknown"
        if os.eol and not os.eol_confirmed:
            eol += f" (per {os.eol_source})"  # a date no file here confirms says so
        lines.append(f"OS {os.pretty_name}{eol}")
    counts = Counter(p.ecosystem.value for p in inventory.visible)
    summary = ", ".join(f"{n} {eco}" for eco, n in sorted(counts.items())) or "none"
    deleted = sum(1 for p in inventory.packages if p.deleted)
    lines.append(
        f"Packages {len(inventory.visible)} ({summary}); {deleted} deleted by a later layer"
    )
    lines.extend(f"Note: {note}" for note in inventory.notes)
    if result.vulnerabilities is None:
        lines.append(
            "Vulnerabilities not checked: no database (run `trimdock db update`, or --db PATH)"
        )
    else:
        levels = Counter(v.level.value for v in result.vulnerabilities)
        order = ("critical", "high", "medium", "low", "unknown")
        counted = ", ".join(f"{levels[k]} {k}" for k in order if levels[k]) or "none"
        lines.append(f"Vulnerabilities {len(result.vulnerabilities)} ({counted})")
    return lines
