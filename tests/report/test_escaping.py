"""Hostile messages, paths and rule text: every format stays parseable and keeps the content."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.report.helpers import render, sarif_errors
from trimdock.report.finding import FileLocation, Finding, ImageLocation, Severity, TextEdit
from trimdock.report.formats import FindingFormat
from trimdock.report.rules import RuleInfo

HOSTILE = "say \"hi\" & <b>'x'</b> ]]> --> ünïcødé 世界 🐳 \x00\x01\x0b\x1b[31m\x7f\x85 tab\tnl\n"
NO_CONTROLS = "say \"hi\" & <b>'x'</b> ]]> --> ünïcødé 世界 🐳 tab\tnl\n"


def hostile_findings(message: str, path: str) -> tuple[Finding, ...]:
    return (
        Finding(
            "TD1",
            Severity.ERROR,
            message,
            FileLocation(path, 1, 1, 1, 3),
            title=message,
            evidence=(("value", message),),
            fix=(TextEdit(path, 1, 1, 1, 3, message),),
            peer_id=message,
        ),
        Finding("TD2", Severity.STYLE, message, ImageLocation(message, message, 0)),
    )


RULES = {
    "TD1": RuleInfo("TD1", HOSTILE, Severity.ERROR, HOSTILE, HOSTILE, "```\n" + HOSTILE, HOSTILE)
}


def check_all_formats(message: str, path: str) -> None:
    findings = hostile_findings(message, path)
    for fmt in FindingFormat:
        out = render(fmt, findings, rules=RULES, sources={path: message}, files=(path,))
        out.encode("utf-8")  # never a lone surrogate
        if fmt in (FindingFormat.JUNIT, FindingFormat.CHECKSTYLE):
            ET.fromstring(out.encode("utf-8"))
        elif fmt not in (FindingFormat.TEXT, FindingFormat.HTML):  # HTML: tests/html
            doc = json.loads(out)
            if fmt is FindingFormat.SARIF:
                assert sarif_errors(doc) == []


def test_hostile_strings_keep_their_content() -> None:
    findings = hostile_findings(NO_CONTROLS, "dir <&>/Dockerfile")
    sarif = json.loads(render(FindingFormat.SARIF, findings, rules=RULES, files=()))
    assert sarif_errors(sarif) == []
    assert sarif["runs"][0]["results"][0]["message"]["text"] == NO_CONTROLS
    assert sarif["runs"][0]["tool"]["driver"]["rules"][0]["help"]["text"] == RULES["TD1"].help_text
    gitlab = json.loads(render(FindingFormat.GITLAB, findings, rules=RULES, files=()))
    assert gitlab[0]["description"].startswith(NO_CONTROLS)
    plain = json.loads(render(FindingFormat.JSON, findings, rules=RULES, files=()))
    assert plain["findings"][0]["message"] == NO_CONTROLS

    checkstyle = ET.fromstring(
        render(FindingFormat.CHECKSTYLE, findings, rules=RULES, files=()).encode()
    )
    error = checkstyle.find("file/error")
    assert error is not None and error.get("message") == NO_CONTROLS
    assert checkstyle.find("file") is not None
    assert checkstyle.findall("file")[0].get("name") == "dir <&>/Dockerfile"
    junit = ET.fromstring(render(FindingFormat.JUNIT, findings, rules=RULES).encode())
    failure = junit.find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message") == NO_CONTROLS


def test_control_characters_in_xml_are_escaped_visibly() -> None:
    findings = hostile_findings(HOSTILE, "Dockerfile")
    checkstyle = ET.fromstring(render(FindingFormat.CHECKSTYLE, findings, rules=RULES).encode())
    error = checkstyle.find("file/error")
    assert error is not None
    assert error.get("message") == NO_CONTROLS.replace(
        "🐳 tab", "🐳 \\x00\\x01\\x0b\\x1b[31m\\x7f\\x85 tab"
    )
    json_doc = json.loads(render(FindingFormat.JSON, findings, rules=RULES))
    assert json_doc["findings"][0]["message"] == HOSTILE  # JSON carries them as \\u escapes


def test_lone_surrogates_are_replaced() -> None:
    check_all_formats("bad \udc80 byte", "Docker\ud800file")


@settings(max_examples=60, deadline=None)
@given(message=st.text(max_size=40), path=st.text(min_size=1, max_size=20))
def test_any_text_gives_parseable_output(message: str, path: str) -> None:
    check_all_formats(message, path)
