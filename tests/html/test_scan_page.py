"""`scan --format html` in a real browser: the figures the page shows are the JSON report's
(packages with their layer, vulnerabilities most severe first with their fixes, surface,
secrets redacted exactly as in the JSON, policy violations), its scripts run without an error,
and a package, a path and a summary written as markup stay text."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from tests.html.browser import ARTEFACTS, Element, png_size, render
from tests.html.test_page import Page
from tests.support.engine import build_image
from trimdock.cli.main import run
from trimdock.security.html import render_scan_html

pytestmark = pytest.mark.engine

FIXTURE = Path(__file__).parent / "fixtures" / "scan-hostile"
HOSTILE_PACKAGE = "<script>alert(1)</script>"
HOSTILE_SUMMARY = "</script><script>alert(7)</script> & <b>bold</b>"
POLICY = """\
[scan.policy]
banned-packages = ["<script>*"]
max-severity = "medium"
forbid-secrets = true
"""


def osv(ident: str, name: str, fixed: str | None, severity: str, summary: str) -> dict[str, Any]:
    events: list[dict[str, str]] = [{"introduced": "0"}]
    if fixed:
        events.append({"fixed": fixed})
    return {
        "id": ident,
        "aliases": [f"CVE-2099-{ident[-4:]}"],
        "modified": "2026-01-01T00:00:00Z",
        "summary": summary,
        "database_specific": {"severity": severity},
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
    }


RECORDS = (
    osv("PYSEC-2099-0001", "demo-vuln", "1.1", "LOW", "A small leak"),
    osv("PYSEC-2099-0002", "demo-vuln", None, "CRITICAL", "Remote code execution"),
    osv("PYSEC-2099-0003", "demo-vuln", "1.2", "HIGH", "Path traversal"),
    osv("PYSEC-2099-0004", HOSTILE_PACKAGE, "2.1", "MODERATE", HOSTILE_SUMMARY),
)


@pytest.fixture(scope="module")
def scanned(engine: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The JSON report of the hostile image and its HTML page (an artefact)."""
    tag = build_image("html-scan-hostile", FIXTURE)
    work = tmp_path_factory.mktemp("scan")
    db = work / "db"
    db.mkdir()
    for record in RECORDS:
        (db / f"{record['id']}.json").write_text(json.dumps(record))
    config = work / "trimdock.toml"
    config.write_text(POLICY)
    common = ["scan", tag, "--db", str(db), "--config", str(config)]
    out = work / "scan.json"
    assert run([*common, "-F", "json", "-o", str(out)]) == 1  # the policy fails
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page = ARTEFACTS / "scan-hostile.html"
    assert run([*common, "-F", "html", "-o", str(page)]) == 1
    return json.loads(out.read_text()), page


def rows(dom: Element, table: str) -> list[list[Element]]:
    body = dom.by_id(table).find_all("tbody")[0]
    return [row.find_all("td") for row in body.find_all("tr")]


def test_scan_page_shows_the_json_figures(scanned: tuple[dict[str, Any], Path]) -> None:
    data, page = scanned
    shown = render(page, "scan-hostile")
    dom = shown.dom
    html = dom.find_all("html")[0]
    assert "data-js-error" not in html.attrs, html.attrs["data-js-error"]
    assert shown.console == []
    assert html.attrs.get("data-tables") == "ready"
    assert png_size(shown.png)[1] > 500

    packages = data["packages"]
    visible = [p for p in packages if not p["deleted"]]
    assert int(dom.by_id("total-packages").attrs["data-count"]) == len(visible)
    assert [
        (r[0].text().split(" (deleted")[0], r[1].text(), r[4].text())
        for r in rows(dom, "packages-table")
    ] == [(p["name"], p["version"], str(p["layer"])) for p in packages]
    assert [r[5].text() for r in rows(dom, "packages-table")] == [p["path"] for p in packages]

    vulns = data["vulnerabilities"]
    assert {v["id"] for v in vulns} == {r["id"] for r in RECORDS}
    assert int(dom.by_id("total-vulnerabilities").attrs["data-count"]) == len(vulns)
    for level in ("critical", "high", "medium", "low"):
        count = sum(1 for v in vulns if v["severity"] == level)
        assert int(dom.by_id(f"total-{level}").attrs["data-count"]) == count
    shown_vulns = rows(dom, "vulnerabilities-table")
    # Most severe first, each with the fix the JSON names.
    assert [r[0].text() for r in shown_vulns] == ["critical", "high", "medium", "low"]
    by_id = {v["id"]: v for v in vulns}
    for cells in shown_vulns:
        vuln = by_id[cells[2].find_all("code")[0].text()]
        assert cells[0].text() == vuln["severity"]
        assert cells[3].find_all("code")[0].text() == vuln["package"]
        assert cells[4].find_all("code")[0].text() == vuln["version"]
        assert cells[5].text() == (vuln["fixed"] or "no fix known")
        assert cells[6].text() == str(vuln["layer"])
        assert cells[7].text() == vuln["summary"]

    assert int(dom.by_id("total-surface").attrs["data-count"]) == len(data["surface"])
    assert [(r[0].text(), r[1].text()) for r in rows(dom, "surface-table")] == [
        (s["category"], s["path"] or "–") for s in data["surface"]
    ]

    secrets = data["secrets"]
    assert len(secrets) == 2
    assert [(r[2].text(), r[5].text(), r[6].text()) for r in rows(dom, "secrets-table")] == [
        (s["path"], s["value"], s["fingerprint"]) for s in secrets
    ]
    text = dom.text()
    for value in ("AKIAQ7R3T9Y2U4I6O8PZ", "ghp_Zq8Wm3Rt7Yp2Lk9Vx4Bn6Hc1Jd5Fg0Sa2Qe7"):
        assert value not in text  # redacted, as in the JSON
        assert value not in page.read_text()

    assert data["os"]["id"] == "debian"
    assert dom.by_id("os-name").text() == data["os"]["pretty_name"]
    assert dom.by_id("os-eol").attrs["data-eol"] == (data["os"]["eol"] or "")

    policy = data["policy"]
    assert dom.by_id("policy-verdict").attrs["data-passed"] == "false"
    assert [(r[0].text(), r[1].text()) for r in rows(dom, "policy-table")] == [
        (v["rule"], v["message"]) for v in policy["violations"]
    ]
    assert {v["rule"] for v in policy["violations"]} >= {
        "banned-packages",
        "max-severity",
        "forbid-secrets",
    }

    # The hostile strings are text: no element came from them.
    assert len(dom.find_all("script")) == 2  # the page's own error hook and table sorter
    assert dom.find_all("img") == [] and dom.find_all("b") == []
    assert HOSTILE_PACKAGE in text and HOSTILE_SUMMARY in text
    assert any("<img src=x onerror=alert(8)>.env" in s["path"] for s in secrets)
    assert any('"><img src=x onerror=alert(2)>-2.0.dist-info' in p["path"] for p in packages)


def test_scan_page_reveals_only_what_the_json_reveals() -> None:
    """With --show-secrets the JSON carries the value, and so does the page (pure)."""
    secret = {
        "kind": "AWS access key id",
        "where": "file",
        "path": "/app/<b>.env",
        "layer": 1,
        "line": 1,
        "deleted": False,
        "fingerprint": "abc",
    }
    document: dict[str, Any] = {
        "schema": "trimdock/scan/1",
        "image": "<img src=x>",
        "config_digest": "sha256:00",
        "os": None,
        "packages": [],
        "database": [],
        "vulnerabilities": None,
        "surface": [],
        "policy": None,
        "findings": [],
    }
    for value in ("AKIA****************", "AKIAQ7R3T9Y2U4I6O8PZ"):
        page = render_scan_html(
            {**document, "secrets": [{**secret, "value": value}]}, dt.date.today()
        )
        parsed = Page(page)
        assert value in "".join(parsed.text)
        assert "/app/<b>.env" in "".join(parsed.text)
        assert [tag for tag, _ in parsed.tags if tag in ("b", "img")] == []
