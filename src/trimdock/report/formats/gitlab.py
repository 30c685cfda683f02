"""GitLab Code Quality report (the Code Climate issue subset GitLab reads)."""

from __future__ import annotations

from typing import Any

from trimdock.report.finding import FileLocation, ImageLocation, Severity
from trimdock.report.formats.common import Context, dump_json, safe_text

# error and warning as hadolint maps them; info and style keep trimdock's order (hadolint
# ranks style above info).
SEVERITY = {
    Severity.ERROR: "blocker",
    Severity.WARNING: "major",
    Severity.INFO: "minor",
    Severity.STYLE: "info",
}

# Code Climate's fixed category names, from trimdock's rule categories.
CATEGORY = {
    "size": "Performance",
    "cache": "Performance",
    "security": "Security",
    "production": "Bug Risk",
    "correctness": "Bug Risk",
    "style": "Style",
}


def render(ctx: Context) -> str:
    issues: list[dict[str, Any]] = []
    for finding, fingerprint in zip(ctx.findings, ctx.fingerprints, strict=True):
        loc = finding.location
        if isinstance(loc, FileLocation):
            path, begin, end = loc.path, loc.line, loc.end_line or loc.line
        elif isinstance(loc, ImageLocation):
            # GitLab needs a path: the image is the artifact the finding is about.
            path, begin, end = loc.image, 1, 1
        else:
            path, begin, end = "", 1, 1
        description = finding.message
        peer = ctx.peer_id(finding)
        if peer:
            description += f" ({peer})"
        issue: dict[str, Any] = {
            "type": "issue",
            "check_name": finding.rule_id,
            "description": description,
            "categories": [CATEGORY.get(ctx.category(finding), "Bug Risk")],
            "severity": SEVERITY[finding.severity],
            "fingerprint": fingerprint,
            "location": {"path": path, "lines": {"begin": begin, "end": max(end, begin)}},
        }
        rule = ctx.rules.get(finding.rule_id)
        if rule is not None:
            issue["content"] = {"body": rule.help_text}
        issues.append(issue)
    return safe_text(dump_json(issues))
