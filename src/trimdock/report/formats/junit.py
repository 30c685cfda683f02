"""JUnit XML: a test suite per checked file, a failing test case per finding.

A file with no findings gets one passing test case, so CI dashboards show it was checked.
Image findings form a suite per image; findings with no location one suite of their own.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from trimdock.report.finding import FileLocation, Finding, ImageLocation
from trimdock.report.formats.common import TOOL_NAME, Context, image_target
from trimdock.report.formats.xml_util import document, element

PASSING_CASE = "no findings"


def render(ctx: Context) -> str:
    groups = ctx.groups(with_clean_files=True)
    total = sum(max(len(findings), 1) for _, findings in groups)
    root = element(
        "testsuites",
        {"name": TOOL_NAME, "tests": total, "failures": len(ctx.findings), "errors": 0},
    )
    for name, findings in groups:
        suite = element(
            "testsuite",
            {
                "name": name,
                "tests": max(len(findings), 1),
                "failures": len(findings),
                "errors": 0,
                "skipped": 0,
            },
        )
        root.append(suite)
        if not findings:
            suite.append(element("testcase", {"name": PASSING_CASE, "classname": name}))
        for finding in findings:
            suite.append(_case(ctx, name, finding))
    return document(root)


def _case(ctx: Context, suite: str, finding: Finding) -> ET.Element:
    loc = finding.location
    if isinstance(loc, FileLocation):
        where = f"{loc.path}:{loc.line}:{loc.column}"
        name = f"{finding.rule_id} line {loc.line}:{loc.column}: {ctx.title(finding)}"
    elif isinstance(loc, ImageLocation):
        where = image_target(loc)
        name = f"{finding.rule_id} {loc.path or loc.image}: {ctx.title(finding)}"
    else:
        where = "-"
        name = f"{finding.rule_id}: {ctx.title(finding)}"
    case = element("testcase", {"name": name, "classname": suite})
    detail = f"{where}  {finding.severity.value.upper()}  {finding.rule_id}  {finding.message}"
    peer = ctx.peer_id(finding)
    if peer:
        detail += f"  [{peer}]"
    rule = ctx.rules.get(finding.rule_id)
    if rule is not None:
        detail += f"\n\n{rule.help_text}"
    case.append(
        element(
            "failure",
            {"message": finding.message, "type": f"{finding.severity.value}:{finding.rule_id}"},
            detail,
        )
    )
    return case
