"""The example projects: each worse variant is flagged for the right reason; the better ones
raise no size, cache or security finding.

Known, deliberate exception (documented in docs/lint.md):
- archive/v2 COPYs the archive and deletes it in the RUN that extracts it: the compressed archive
  still ships in the COPY layer, which TD102 reports at *info* severity with the bind-mount fix.
"""

from __future__ import annotations

from pathlib import Path

from trimdock.dockerfile import parse
from trimdock.report.finding import Finding, Severity
from trimdock.rules.engine import lint
from trimdock.rules.registry import RULE_INFOS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _lint(relative: str) -> list[Finding]:
    path = EXAMPLES / relative / "Dockerfile"
    return lint(parse(path.read_text(), str(path)))


def _lines(findings: list[Finding], rule_id: str) -> list[int]:
    return [f.location.line for f in findings if f.rule_id == rule_id]  # type: ignore[union-attr]


def _relevant(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if RULE_INFOS[f.rule_id].category in ("size", "cache", "security")]


def test_build_context_v1_copies_the_whole_context() -> None:
    findings = _lint("build-context/v1")
    assert _lines(findings, "TD101") == [4]


def test_build_context_v2_deletes_docs_in_a_later_layer() -> None:
    findings = _lint("build-context/v2")
    assert _lines(findings, "TD101") == [4]
    [late] = [f for f in findings if f.rule_id == "TD102"]
    assert late.location.line == 5  # type: ignore[union-attr]
    assert dict(late.evidence)["created_line"] == 4
    assert dict(late.evidence)["deleted"] == "/app/docs"


def test_build_context_v3_is_clean() -> None:
    assert _relevant(_lint("build-context/v3")) == []


def test_archive_v1_extracts_everything_then_trims_later() -> None:
    findings = _lint("archive/v1")
    late = {dict(f.evidence)["deleted"]: dict(f.evidence) for f in findings if f.rule_id == "TD102"}
    assert late["/opt/sdk"]["created_line"] == 4
    assert late["/opt/sdk"]["created_by"] == "extract"
    assert late["/tmp/sdk.tar.gz"]["created_line"] == 3
    assert all(f.severity is Severity.WARNING for f in findings if f.rule_id == "TD102")


def test_archive_v2_only_reports_the_consumed_archive_as_info() -> None:
    relevant = _relevant(_lint("archive/v2"))
    assert [(f.rule_id, f.severity) for f in relevant] == [("TD102", Severity.INFO)]


def test_archive_v3_multi_stage_is_clean() -> None:
    assert _relevant(_lint("archive/v3")) == []
