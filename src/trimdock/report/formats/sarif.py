"""SARIF 2.1.0, shaped for GitHub code scanning.

Notes on choices GitHub relies on:
- artifact URIs are relative, percent-encoded, with `uriBaseId` `%SRCROOT%` (the checkout);
- columns count Unicode code points (`columnKind`), as trimdock's locations do, and SARIF's
  `endColumn` is exclusive like `FileLocation.end_column`;
- every result has a physical location: an image finding names the image as its artifact
  (region line 1) and says where inside it with a logical location;
- `security-severity` is set for security rules so GitHub ranks them as security alerts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from trimdock.report.finding import FileLocation, Finding, ImageLocation, Severity, TextEdit
from trimdock.report.formats.common import TOOL_NAME, Context, dump_json, image_target, safe_text
from trimdock.report.rules import RuleInfo

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "trimdockFingerprint/v1"

LEVEL = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
    Severity.STYLE: "note",
}
# GitHub's own vocabulary for non-security alerts.
_PROBLEM_SEVERITY = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "recommendation",
    Severity.STYLE: "recommendation",
}
# GitHub maps >= 9.0 critical, >= 7.0 high, >= 4.0 medium, else low.
_SECURITY_SEVERITY = {
    Severity.ERROR: "8.0",
    Severity.WARNING: "5.5",
    Severity.INFO: "3.0",
    Severity.STYLE: "1.0",
}


def render(ctx: Context) -> str:
    descriptors, index = _rules(ctx)
    driver: dict[str, Any] = {
        "name": TOOL_NAME,
        "version": ctx.tool_version,
        "semanticVersion": ctx.tool_version,
    }
    if ctx.information_uri:
        driver["informationUri"] = ctx.information_uri
    driver["rules"] = descriptors
    results = [
        _result(ctx, finding, fingerprint, index[finding.rule_id])
        for finding, fingerprint in zip(ctx.findings, ctx.fingerprints, strict=True)
    ]
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    artifacts = _artifacts(ctx)
    if artifacts:
        run["artifacts"] = artifacts
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return safe_text(dump_json(document))


def artifact_uri(path: str) -> dict[str, Any]:
    """An artifactLocation for a file path as given on the command line."""
    posix = safe_text(path).replace("\\", "/")
    if posix.startswith("/"):
        return {"uri": "file://" + quote(posix, safe="/")}
    while posix.startswith("./"):
        posix = posix[2:]
    # Quoting ":" too keeps a name like "a:b" from reading as a URI scheme.
    return {"uri": quote(posix, safe="/"), "uriBaseId": SRCROOT}


def _rules(ctx: Context) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Descriptors for the whole catalogue plus any rule a finding names that it lacks."""
    ids = sorted(set(ctx.rules) | {f.rule_id for f in ctx.findings})
    descriptors: list[dict[str, Any]] = []
    for rule_id in ids:
        rule = ctx.rules.get(rule_id)
        if rule is not None:
            descriptors.append(_descriptor(rule))
        else:
            title = next(ctx.title(f) for f in ctx.findings if f.rule_id == rule_id)
            descriptors.append({"id": rule_id, "shortDescription": {"text": title}})
    return descriptors, {rule_id: i for i, rule_id in enumerate(ids)}


def _descriptor(rule: RuleInfo) -> dict[str, Any]:
    tags = [rule.category] if rule.category else []
    if rule.peer_id:
        tags.append(rule.peer_id)
    properties: dict[str, Any] = {
        "tags": tags,
        "problem.severity": _PROBLEM_SEVERITY[rule.severity],
    }
    if rule.category == "security":
        properties["security-severity"] = _SECURITY_SEVERITY[rule.severity]
    if rule.peer_id:
        properties["peerId"] = rule.peer_id
    return {
        "id": rule.rule_id,
        "name": _pascal(rule.title) or rule.rule_id,
        "shortDescription": {"text": rule.title or rule.rule_id},
        "fullDescription": {"text": rule.what or rule.title or rule.rule_id},
        "help": {"text": rule.help_text, "markdown": _help_markdown(rule)},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": properties,
    }


def _pascal(title: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title))


def _help_markdown(rule: RuleInfo) -> str:
    def fence(code: str) -> str:
        # A fence longer than any backtick run inside, so the example cannot close it.
        longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
        ticks = "`" * max(3, longest + 1)
        return f"{ticks}dockerfile\n{code}\n{ticks}"

    return (
        f"{rule.what}\n\n**Why it matters:** {rule.why}\n\n"
        f"**Example**\n\n{fence(rule.example)}\n\n**Instead**\n\n{fence(rule.instead)}"
    )


def _region(line: int, column: int, end_line: int | None, end_column: int | None) -> dict[str, int]:
    region = {"startLine": max(line, 1), "startColumn": max(column, 1)}
    if end_line is not None:
        region["endLine"] = max(end_line, region["startLine"])
    if end_column is not None:
        same_line = region.get("endLine", region["startLine"]) == region["startLine"]
        low = region["startColumn"] if same_line else 1
        region["endColumn"] = max(end_column, low)
    return region


def _result(ctx: Context, finding: Finding, fingerprint: str, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": {"text": finding.message or ctx.title(finding)},
    }
    loc = finding.location
    if isinstance(loc, FileLocation):
        region = _region(loc.line, loc.column, loc.end_line, loc.end_column)
        result["locations"] = [
            {"physicalLocation": {"artifactLocation": artifact_uri(loc.path), "region": region}}
        ]
    elif isinstance(loc, ImageLocation):
        logical: dict[str, Any] = {
            "name": loc.path or loc.image,
            "fullyQualifiedName": image_target(loc),
            "kind": "resource",
        }
        result["locations"] = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(safe_text(loc.image), safe="/")},
                    "region": {"startLine": 1},
                },
                "logicalLocations": [logical],
            }
        ]
    result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint}
    properties: dict[str, Any] = {"severity": finding.severity.value}
    peer = ctx.peer_id(finding)
    if peer:
        properties["peerId"] = peer
    if isinstance(loc, ImageLocation) and loc.layer is not None:
        properties["layer"] = loc.layer
    if finding.evidence:
        properties["evidence"] = dict(finding.evidence)
    result["properties"] = properties
    if finding.fix:
        result["fixes"] = [_fix(ctx.title(finding), finding.fix)]
    return result


def _fix(title: str, edits: Iterable[TextEdit]) -> dict[str, Any]:
    by_path: dict[str, list[TextEdit]] = {}
    for edit in edits:
        by_path.setdefault(edit.path, []).append(edit)
    changes = [
        {
            "artifactLocation": artifact_uri(path),
            "replacements": [
                {
                    "deletedRegion": _region(e.line, e.column, e.end_line, e.end_column),
                    "insertedContent": {"text": e.replacement},
                }
                for e in path_edits
            ],
        }
        for path, path_edits in by_path.items()
    ]
    return {"description": {"text": f"Fix: {title}"}, "artifactChanges": changes}


def _artifacts(ctx: Context) -> list[dict[str, Any]]:
    """Every checked file, so a viewer can tell a clean file from an unchecked one."""
    return [{"location": artifact_uri(path)} for path in ctx.files]
