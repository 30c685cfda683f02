"""Findings of the same fact on one line: one text line with every id; JSON/SARIF keep all."""

from __future__ import annotations

import json

import pytest

from trimdock.dockerfile import parse
from trimdock.report.finding import FileLocation, Finding, Severity
from trimdock.report.formats import FindingFormat, render_findings
from trimdock.report.formats.text import same_fact_lines
from trimdock.rules.engine import LintSettings, lint
from trimdock.rules.registry import RULE_INFOS, lookup

CASES = {
    # RUN apt-get update alone: TD211 (its own RUN) and TD104 (the lists stay).
    "apt": ("FROM debian:12-slim\nRUN apt-get update\nUSER app\n", 2, ("TD211", "TD104")),
    # COPY . . before an install: TD201 (cache) and TD101 (size).
    "copy-install": (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r r.txt\n"
        "USER app\n",
        3,
        ("TD201", "TD101"),
    ),
    # COPY . . before an unrelated package install: TD101 (warning) shown, TD202 (info) merged.
    "copy-unrelated": (
        "FROM debian:12-slim\nWORKDIR /app\nCOPY . .\nRUN apt-get update && apt-get install -y "
        "--no-install-recommends curl=7 && rm -rf /var/lib/apt/lists/*\nUSER app\n",
        3,
        ("TD101", "TD202"),
    ),
}


def _render(text: str, fmt: FindingFormat) -> tuple[list[Finding], str]:
    findings = lint(parse(text, "Dockerfile"), LintSettings(shellcheck=False))
    out = render_findings(
        findings, fmt, rules=RULE_INFOS, sources={"Dockerfile": text}, tool_version="0", files=[]
    )
    return findings, out


@pytest.mark.parametrize("case", sorted(CASES))
def test_text_shows_one_line_with_both_ids(case: str) -> None:
    text, line, ids = CASES[case]
    findings, out = _render(text, FindingFormat.TEXT)
    assert {f.rule_id for f in findings if isinstance(f.location, FileLocation)} >= set(ids)
    at_line = [row for row in out.splitlines() if row.startswith(f"  Dockerfile:{line}:")]
    assert len(at_line) == 1 and f"  {', '.join(ids)}  " in at_line[0]
    shown = next(f for f in findings if f.rule_id == ids[0])
    assert at_line[0].endswith(shown.message) or shown.message in at_line[0]


@pytest.mark.parametrize("fmt", [FindingFormat.JSON, FindingFormat.SARIF])
def test_machine_formats_keep_every_finding(fmt: FindingFormat) -> None:
    text, _, ids = CASES["apt"]
    findings, out = _render(text, fmt)
    data = json.loads(out)
    rows = data["findings"] if fmt is FindingFormat.JSON else data["runs"][0]["results"]
    assert len(rows) == len(findings)
    names = {r.get("rule") or r.get("ruleId") for r in rows}
    assert set(ids) <= names


def test_unrelated_findings_on_one_line_stay_apart() -> None:
    a = Finding("TD203", Severity.WARNING, "pins", FileLocation("D", 4))
    b = Finding("TD614", Severity.WARNING, "pipefail", FileLocation("D", 4))
    c = Finding("TD104", Severity.WARNING, "lists", FileLocation("D", 5))
    d = Finding("TD211", Severity.WARNING, "alone", FileLocation("D", 6))
    lines = same_fact_lines([a, b, c, d], RULE_INFOS)
    assert [(s.rule_id, r) for s, r in lines] == [
        ("TD203", ()),
        ("TD614", ()),
        ("TD104", ()),
        ("TD211", ()),
    ]


def test_same_fact_names_known_rules() -> None:
    for info in RULE_INFOS.values():
        for other in info.same_fact:
            assert lookup(other) is not None and other != info.rule_id, info.rule_id
