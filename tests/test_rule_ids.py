"""Rule ids are one namespace across the Dockerfile and build-context catalogues."""

from __future__ import annotations

import pytest

from trimdock.cli.main import run
from trimdock.context.rules import RULES as CONTEXT_RULES
from trimdock.rules.registry import RULE_INFOS


def test_lint_and_context_rule_ids_never_collide() -> None:
    assert set(RULE_INFOS).isdisjoint(CONTEXT_RULES)


def test_every_context_rule_id_is_in_the_td5xx_range() -> None:
    assert all(rule_id.startswith("TD5") for rule_id in CONTEXT_RULES)


def test_explain_covers_context_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["explain", "TD502"]) == 0
    assert CONTEXT_RULES["TD502"].title in capsys.readouterr().out


def test_explain_still_finds_a_renumbered_hadolint_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["explain", "DL3014"]) == 0
    assert capsys.readouterr().out.startswith("TD601 (hadolint DL3014)")
