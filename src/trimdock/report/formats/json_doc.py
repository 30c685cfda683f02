"""trimdock's own JSON document: every finding as `Finding.to_json()` plus a summary."""

from __future__ import annotations

from typing import Any

from trimdock.report.finding import FileLocation
from trimdock.report.formats.common import TOOL_NAME, Context, dump_json, safe_text


def render(ctx: Context) -> str:
    counts = ctx.counts()
    with_findings = {f.location.path for f in ctx.findings if isinstance(f.location, FileLocation)}
    findings: list[dict[str, Any]] = []
    for finding, fingerprint in zip(ctx.findings, ctx.fingerprints, strict=True):
        data = finding.to_json()
        data["fingerprint"] = fingerprint
        findings.append(data)
    document = {
        "schema": "trimdock/lint/1",
        "tool": TOOL_NAME,
        "version": ctx.tool_version,
        "files": list(ctx.files),
        "findings": findings,
        "summary": {
            "findings": len(ctx.findings),
            **{severity.value: n for severity, n in counts.items()},
            "files": len(ctx.files),
            "files_with_findings": len(with_findings),
        },
    }
    return safe_text(dump_json(document))
