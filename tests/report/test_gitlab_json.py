"""GitLab Code Quality and trimdock JSON: required keys, counts, stable unique fingerprints."""

from __future__ import annotations

import json
from typing import Any

from tests.report.cases import DOCKERFILE, FILES, FINDINGS, SOURCES
from tests.report.helpers import render
from trimdock.report.finding import FileLocation, Finding, Severity
from trimdock.report.formats import FindingFormat

GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def gitlab(findings: tuple[Finding, ...] = FINDINGS, **kwargs: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(render(FindingFormat.GITLAB, findings, **kwargs))
    return data


def test_gitlab_required_keys_and_types() -> None:
    issues = gitlab()
    assert len(issues) == len(FINDINGS)
    for issue in issues:
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str)
        assert isinstance(issue["fingerprint"], str) and len(issue["fingerprint"]) == 64
        assert issue["severity"] in GITLAB_SEVERITIES
        assert isinstance(issue["location"]["path"], str)
        begin = issue["location"]["lines"]["begin"]
        assert isinstance(begin, int) and begin >= 1
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    by_rule = {i["check_name"]: i for i in issues}
    assert by_rule["TD110"]["location"] == {"path": "Dockerfile", "lines": {"begin": 5, "end": 5}}
    assert by_rule["TD140"]["location"]["lines"] == {"begin": 2, "end": 3}
    assert [by_rule[r]["severity"] for r in ("TD101", "TD110", "TD111", "TD130")] == [
        "blocker",
        "major",
        "minor",
        "info",
    ]
    assert by_rule["TD201"]["categories"] == ["Security"]
    assert by_rule["TD110"]["description"].endswith("(DL3008)")


def test_fingerprints_survive_lines_moving_and_stay_unique_for_twins() -> None:
    before = {i["check_name"]: i["fingerprint"] for i in gitlab()}
    # Two comment lines above: every finding in Dockerfile moves down by two.
    moved_source = "# one\n# two\n" + DOCKERFILE
    moved = tuple(
        Finding(
            f.rule_id,
            f.severity,
            f.message,
            FileLocation(f.location.path, f.location.line + 2, f.location.column),
        )
        if isinstance(f.location, FileLocation) and f.location.path == "Dockerfile"
        else f
        for f in FINDINGS
    )
    after = {
        i["check_name"]: i["fingerprint"]
        for i in gitlab(moved, sources={**SOURCES, "Dockerfile": moved_source})
    }
    assert after == before
    # The same rule twice on identical lines still gives distinct fingerprints.
    twins = (
        Finding("TD110", Severity.WARNING, "pin a", FileLocation("D", 2)),
        Finding("TD110", Severity.WARNING, "pin b", FileLocation("D", 3)),
    )
    prints = [i["fingerprint"] for i in gitlab(twins, sources={"D": "FROM x\nRUN a\nRUN a\n"})]
    assert len(set(prints)) == 2


def test_json_document() -> None:
    doc = json.loads(render(FindingFormat.JSON))
    assert (doc["tool"], doc["version"], doc["files"]) == ("trimdock", "0.1.0", list(FILES))
    assert doc["summary"] == {
        "findings": 8,
        "error": 2,
        "warning": 3,
        "info": 2,
        "style": 1,
        "files": 3,
        "files_with_findings": 2,
    }
    by_rule = {f["rule"]: f for f in doc["findings"]}
    for finding in FINDINGS:
        entry = dict(by_rule[finding.rule_id])
        assert len(entry.pop("fingerprint")) == 64
        assert entry == finding.to_json()
    assert by_rule["TD301"]["evidence"] == {"bytes": 48213504}  # a number, not "48 MB"


def test_json_survives_unserialisable_evidence() -> None:
    from pathlib import PurePosixPath

    finding = Finding(
        "TD1", Severity.INFO, "m", evidence=(("path", PurePosixPath("/a")), ("ids", (1, 2)))
    )
    doc = json.loads(render(FindingFormat.JSON, (finding,)))
    assert doc["findings"][0]["evidence"] == {"path": "/a", "ids": [1, 2]}
