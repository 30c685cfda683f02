"""Rendering shortcuts shared by the format tests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

from tests.report.cases import FILES, FINDINGS, RULES, SOURCES, VERSION
from trimdock.report.finding import Finding
from trimdock.report.formats import FindingFormat, render_findings
from trimdock.report.rules import RuleInfo

SCHEMA = Path(__file__).parent / "schema" / "sarif-schema-2.1.0.json"


def render(
    fmt: FindingFormat,
    findings: Sequence[Finding] = FINDINGS,
    *,
    rules: Mapping[str, RuleInfo] = RULES,
    sources: Mapping[str, str] = SOURCES,
    files: Sequence[str] = FILES,
    color: bool = False,
) -> str:
    return render_findings(
        findings, fmt, rules=rules, sources=sources, tool_version=VERSION, files=files, color=color
    )


@cache
def sarif_validator() -> Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def sarif_errors(document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in sarif_validator().iter_errors(document)
    ]
