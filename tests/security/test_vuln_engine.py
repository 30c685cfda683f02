"""Vulnerabilities of a real image against the shared PyPI advisory database, compared with an
independent computation over the same YAML files (packaging's PEP 440 ordering, written here)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.security.images import pyold_image
from tests.support.shared import SHARED_DATA
from trimdock.cli.main import run

pytestmark = pytest.mark.engine

PYPA = SHARED_DATA / "osv" / "pypa-advisory-database"


def _in_range(version: Version, events: list[dict[str, str]]) -> bool:
    def key(event: dict[str, str]) -> Version:
        return Version(next(iter(event.values())))

    inside = False
    for event in sorted(events, key=key):
        kind, value = next(iter(event.items()))
        if kind == "introduced" and version >= Version(value):
            inside = True
        elif (kind == "fixed" and version >= Version(value)) or (
            kind == "last_affected" and version > Version(value)
        ):
            inside = False
    return inside


def expected_groups(packages: list[tuple[str, str]]) -> dict[str, set[frozenset[str]]]:
    """Per package: the sets of record ids that describe one vulnerability (linked by aliases)."""
    wanted = {canonicalize_name(name): version for name, version in packages}
    hits: dict[str, list[dict[str, Any]]] = {name: [] for name in wanted}
    for path in sorted((PYPA / "vulns").rglob("*.yaml")):
        record = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        if record.get("withdrawn"):
            continue
        for affected in record.get("affected", []):
            package = affected.get("package", {})
            name = canonicalize_name(package.get("name", ""))
            if package.get("ecosystem") != "PyPI" or name not in wanted:
                continue
            version = wanted[name]
            listed = version in affected.get("versions", [])
            ranged = any(
                _in_range(Version(version), r["events"])
                for r in affected.get("ranges", [])
                if r["type"] == "ECOSYSTEM"
            )
            if listed or ranged:
                hits[name].append(record)
    result: dict[str, set[frozenset[str]]] = {}
    for name, records in hits.items():
        groups: list[set[str]] = []
        for record in records:
            names = {record["id"], *record.get("aliases", [])}
            merged = [g for g in groups if g & names]
            for group in merged:
                groups.remove(group)
                names |= group
            groups.append(names)
        ids = {r["id"] for r in records}
        result[name] = {frozenset(g & ids) for g in groups}
    return result


@pytest.fixture(scope="module")
def report(engine: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    image = pyold_image(tmp_path_factory.mktemp("ctx"))
    out = tmp_path_factory.mktemp("out") / "scan.json"
    code = run(["scan", image, "--db", str(PYPA), "-F", "json", "-o", str(out)])
    assert code == 0
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def test_pypi_advisories_equal_an_independent_computation(report: dict[str, Any]) -> None:
    packages = [(p["name"], p["version"]) for p in report["packages"] if p["ecosystem"] == "PyPI"]
    expected = expected_groups(packages)
    all_ids = {i for groups in expected.values() for g in groups for i in g}
    found: dict[str, set[frozenset[str]]] = {name: set() for name in expected}
    for row in report["vulnerabilities"]:
        assert row["ecosystem"] == "PyPI"  # the PyPI database says nothing about Debian
        found[canonicalize_name(row["package"])].add(frozenset(set(row["ids"]) & all_ids))
    assert found == expected
    assert sum(len(g) for g in expected.values()) > 30  # old Django, requests, urllib3...


def test_rows_show_the_fix_and_computed_severity(report: dict[str, Any]) -> None:
    rows = {row["id"]: row for row in report["vulnerabilities"]}
    requests = rows["PYSEC-2023-74"]
    assert requests["package"] == "requests" and requests["fixed"] == "2.31.0"
    assert "CVE-2023-32681" in requests["cves"]
    # urllib3's record carries a CVSS 3.1 vector: severity is computed from it.
    urllib3 = rows["PYSEC-2023-192"]
    assert (urllib3["severity"], urllib3["score"]) == ("high", 8.1)
    # sqlparse's metadata was deleted by a later layer, yet its bytes ship: still reported.
    assert any(row["package"] == "sqlparse" and row["deleted"] for row in rows.values())


def test_severity_filter_keeps_high_and_above(
    engine: None, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    image = pyold_image(tmp_path_factory.mktemp("ctx"))
    assert run(["scan", image, "--db", str(PYPA), "--severity", "high", "-F", "sarif"]) == 0
    sarif = json.loads(capsys.readouterr().out)
    vulns = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "TD901"]
    assert vulns and all(r["level"] == "error" for r in vulns)
    assert {"TD903", "TD911"} <= {r["ruleId"] for r in sarif["runs"][0]["results"]}


def test_report_with_vulnerabilities_matches_its_schema(report: dict[str, Any]) -> None:
    from tests.test_json_schemas import validate

    validate(report, "scan.json")
