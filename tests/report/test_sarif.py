"""SARIF output: valid against the official 2.1.0 schema and usable by GitHub code scanning."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from tests.report.cases import DOCKERFILE, FINDINGS, RULES
from tests.report.helpers import render, sarif_errors
from trimdock.report.finding import FileLocation, Finding, ImageLocation, Severity
from trimdock.report.formats import FindingFormat


def sarif(findings: tuple[Finding, ...] = FINDINGS, **kwargs: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render(FindingFormat.SARIF, findings, **kwargs))
    return data


def test_schema_valid_for_the_sample_run() -> None:
    assert sarif_errors(sarif()) == []


def test_schema_valid_with_no_findings_and_no_rules() -> None:
    doc = sarif((), rules={}, files=())
    assert sarif_errors(doc) == []
    assert doc["runs"][0]["results"] == []


def test_the_schema_actually_rejects_bad_logs() -> None:
    # Guards against a vendored schema that accepts anything.
    doc = sarif()
    doc["runs"][0]["results"][0]["level"] = "fatal"
    del doc["runs"][0]["tool"]["driver"]["name"]
    assert len(sarif_errors(doc)) == 2


def test_rule_index_points_at_the_rule() -> None:
    run = sarif()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted({*RULES, "TD900"})
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_rule_metadata_github_shows() -> None:
    rules = {r["id"]: r for r in sarif()["runs"][0]["tool"]["driver"]["rules"]}
    pin = rules["TD110"]
    assert pin["name"] == "PinVersionsInAptGetInstall"
    assert pin["shortDescription"]["text"] == "Pin versions in apt-get install"
    assert pin["fullDescription"]["text"] == RULES["TD110"].what
    assert pin["help"]["text"] == RULES["TD110"].help_text
    assert "```dockerfile\nRUN apt-get install -y curl\n```" in pin["help"]["markdown"]
    assert pin["defaultConfiguration"]["level"] == "warning"
    assert pin["properties"]["tags"] == ["cache", "DL3008"]
    assert rules["TD130"]["defaultConfiguration"]["level"] == "note"  # style
    secret = rules["TD201"]["properties"]
    assert "security" in secret["tags"]
    assert float(secret["security-severity"]) >= 7.0  # GitHub: high
    assert "security-severity" not in pin["properties"]


def test_levels() -> None:
    levels = {r["ruleId"]: r["level"] for r in sarif()["runs"][0]["results"]}
    assert levels == {
        "TD101": "error",
        "TD201": "error",
        "TD110": "warning",
        "TD140": "warning",
        "TD301": "warning",
        "TD111": "note",
        "TD900": "note",
        "TD130": "note",
    }


def _span(text: str, region: dict[str, int]) -> str:
    """The text a single-line SARIF region covers (endColumn is exclusive)."""
    line = text.splitlines()[region["startLine"] - 1]
    return line[region["startColumn"] - 1 : region["endColumn"] - 1]


def test_regions_cover_the_reported_text() -> None:
    results = {r["ruleId"]: r for r in sarif()["runs"][0]["results"]}
    where = {
        rule: results[rule]["locations"][0]["physicalLocation"]
        for rule in ("TD101", "TD110", "TD201", "TD130")
    }
    for loc in where.values():
        assert loc["artifactLocation"] == {"uri": "Dockerfile", "uriBaseId": "%SRCROOT%"}
    assert _span(DOCKERFILE, where["TD110"]["region"]) == "curl"
    assert _span(DOCKERFILE, where["TD101"]["region"]) == "COPY . ."
    assert _span(DOCKERFILE, where["TD201"]["region"]) == "API_TOKEN=abc123"
    assert _span(DOCKERFILE, where["TD130"]["region"]) == "python app.py"
    multi = results["TD140"]["locations"][0]["physicalLocation"]["region"]
    assert (multi["startLine"], multi["endLine"], multi["endColumn"]) == (2, 3, 17)


def _apply(text: str, fix: dict[str, Any]) -> str:
    lines = text.splitlines(keepends=True)
    (change,) = fix["artifactChanges"]
    for rep in sorted(
        change["replacements"],
        key=lambda r: (r["deletedRegion"]["startLine"], r["deletedRegion"]["startColumn"]),
        reverse=True,
    ):
        region = rep["deletedRegion"]
        assert region["startLine"] == region["endLine"]
        line = lines[region["startLine"] - 1]
        start, end = region["startColumn"] - 1, region["endColumn"] - 1
        lines[region["startLine"] - 1] = line[:start] + rep["insertedContent"]["text"] + line[end:]
    return "".join(lines)


def test_fixes_apply_to_the_source() -> None:
    results = {r["ruleId"]: r for r in sarif()["runs"][0]["results"]}
    (cmd_fix,) = results["TD130"]["fixes"]
    assert 'CMD ["python", "app.py"]\n' in _apply(DOCKERFILE, cmd_fix)
    (apt_fix,) = results["TD111"]["fixes"]
    assert "apt-get install --no-install-recommends -y curl\n" in _apply(DOCKERFILE, apt_fix)
    assert "fixes" not in results["TD101"]


def test_image_finding_has_a_physical_and_a_logical_location() -> None:
    results = {r["ruleId"]: r for r in sarif()["runs"][0]["results"]}
    (loc,) = results["TD301"]["locations"]
    assert unquote(loc["physicalLocation"]["artifactLocation"]["uri"]) == "example/app:1.0"
    assert ":" not in loc["physicalLocation"]["artifactLocation"]["uri"]  # not a URI scheme
    assert loc["logicalLocations"][0]["name"] == "/root/.cache/pip"
    assert results["TD301"]["properties"]["layer"] == 5
    assert "locations" not in results["TD900"]


def test_fingerprints_are_unique() -> None:
    prints = [r["partialFingerprints"] for r in sarif()["runs"][0]["results"]]
    assert len({json.dumps(p) for p in prints}) == len(FINDINGS)


def test_uris_are_relative_and_percent_encoded() -> None:
    odd = "my dir/Dockerfile:dév#1"
    findings = (
        Finding("TD101", Severity.ERROR, "m", FileLocation(odd, 1)),
        Finding("TD101", Severity.ERROR, "m", FileLocation("./a/Dockerfile", 1)),
        Finding("TD101", Severity.ERROR, "m", FileLocation("/abs/Dockerfile", 1)),
        Finding("TD101", Severity.ERROR, "m", ImageLocation("reg:5000/app:1", None, None)),
    )
    doc = sarif(findings, files=())
    assert sarif_errors(doc) == []
    # Report order: by path as given ("./a" < "/abs" < "my dir"), then images.
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"] for r in doc["runs"][0]["results"]
    ]
    assert uris[0] == {"uri": "a/Dockerfile", "uriBaseId": "%SRCROOT%"}
    assert uris[1] == {"uri": "file:///abs/Dockerfile"}
    assert uris[2] == {"uri": "my%20dir/Dockerfile%3Ad%C3%A9v%231", "uriBaseId": "%SRCROOT%"}
    assert unquote(uris[2]["uri"]) == odd
    assert uris[3] == {"uri": "reg%3A5000/app%3A1"}


def test_degenerate_spans_still_validate() -> None:
    findings = (
        Finding("TD101", Severity.ERROR, "", FileLocation("Dockerfile", 0, 0, None, 0)),
        Finding("TD101", Severity.ERROR, "m", FileLocation("Dockerfile", 5, 9, 3, 2)),
    )
    doc = sarif(findings)
    assert sarif_errors(doc) == []
    assert doc["runs"][0]["results"][0]["message"]["text"]  # falls back to the rule title
