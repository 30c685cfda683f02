"""`trimdock explain`: every kind of id, the list, JSON, and one clear line for an unknown id."""

from __future__ import annotations

import json

import pytest

from trimdock.cli.main import run
from trimdock.context.rules import RULES as CONTEXT_RULES
from trimdock.rules.registry import RULES
from trimdock.runtime.check_rules import CHECK_RULES
from trimdock.runtime.compose.rules import COMPOSE_RULES
from trimdock.security.findings import RULES as SCAN_RULES


def out_of(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> str:
    capsys.readouterr()
    assert run(["explain", *args]) == code
    return capsys.readouterr().out


def test_list_has_every_lint_context_compose_check_and_scan_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = json.loads(out_of(capsys, "--list", "--format", "json"))["rules"]
    expected = {r.info.rule_id for r in RULES} | set(CONTEXT_RULES) | set(COMPOSE_RULES)
    expected |= set(CHECK_RULES) | set(SCAN_RULES)
    assert {item["id"] for item in data} == expected
    text = out_of(capsys, "--list")
    assert len(text.splitlines()) == len(expected) + 1  # one header, one line per rule


def test_category_filter(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(out_of(capsys, "--category", "cache", "-F", "json"))["rules"]
    assert data and {item["category"] for item in data} == {"cache"}


def test_one_rule_as_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads(out_of(capsys, "DL3008", "--format", "json"))
    assert (record["id"], record["hadolint"]) == ("TD203", "DL3008")
    assert set(record) >= {"title", "severity", "what", "why", "example", "instead"}
    assert out_of(capsys, "td203").startswith("TD203 (hadolint DL3008): ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["TD999"], "unknown rule id 'TD999' (trimdock explain --list shows every id)"),
        (["--category", "sizes"], "--category: unknown category 'sizes'"),
        ([], "explain: give a rule id, or --list to see them all"),
    ],
)
def test_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    capsys.readouterr()
    assert run(["explain", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_check_is_explained_by_its_id_or_its_name(capsys: pytest.CaptureFixture[str]) -> None:
    by_id = out_of(capsys, "TD803")
    assert by_id.startswith("TD803: Stops on SIGTERM\n")
    assert out_of(capsys, "stop-signal") == by_id
