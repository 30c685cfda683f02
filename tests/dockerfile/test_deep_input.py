"""Deeply nested input gives a result, never a RecursionError: ONBUILD chains, nested JSON,
command substitutions and subshells in RUN (bashlex recurses), nested `${...}` defaults."""

from __future__ import annotations

import pytest

from trimdock.dockerfile import parse
from trimdock.dockerfile.shell import parse_script
from trimdock.rules.engine import lint


def test_a_long_onbuild_chain_is_one_refused_trigger() -> None:
    text = "FROM a:1\n" + "ONBUILD " * 20_000 + "RUN x\n"
    dockerfile = parse(text)
    onbuild = dockerfile.instructions[1]
    assert onbuild.trigger is not None and onbuild.trigger.keyword == "ONBUILD"
    assert onbuild.trigger.trigger is None  # not parsed further: BuildKit refuses it anyway
    assert "onbuild-forbidden" in {i.code for i in dockerfile.issues}
    assert "TD009" in {f.rule_id for f in lint(dockerfile)}


def test_onbuild_of_a_run_still_has_its_trigger() -> None:
    dockerfile = parse("FROM a:1\nONBUILD RUN apt-get install -y curl\n")
    trigger = dockerfile.instructions[1].trigger
    assert trigger is not None and trigger.keyword == "RUN"


@pytest.mark.parametrize(
    "body",
    [
        "echo " + "$(" * 6000 + "x" + ")" * 6000,  # under the bashlex size cut: it recurses
        "(" * 6000 + "x" + ")" * 6000,
        "{ " * 5000 + "x;" + " }" * 5000,
        "if true; then " * 1500 + "x" + "; fi" * 1500,
        "echo $((" + "(" * 5000 + "1" + ")" * 5000 + "))",
    ],
    ids=["command-substitutions", "subshells", "groups", "ifs", "arithmetic"],
)
def test_deeply_nested_shell_is_parsed_or_split(body: str) -> None:
    script = parse_script(body)
    assert isinstance(script.commands, tuple)
    findings = lint(parse("FROM a:1\nRUN " + body + "\nUSER app\n"))
    assert all(f.rule_id != "TD001" for f in findings)


def test_deeply_nested_json_is_shell_form() -> None:
    depth = 100_000
    dockerfile = parse("FROM a:1\nCMD " + "[" * depth + "]" * depth + "\n")
    assert not dockerfile.instructions[1].json
    assert "TD008" in {f.rule_id for f in lint(dockerfile)}
