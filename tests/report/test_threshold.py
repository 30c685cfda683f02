"""One failure-threshold parser for every gating command (report/threshold.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trimdock.cli.main import run
from trimdock.errors import ConfigError, UsageError
from trimdock.report.finding import Finding, Severity
from trimdock.report.threshold import DEFAULT, NAMES, choose_threshold, fails, parse_threshold


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("error", Severity.ERROR),
        ("warning", Severity.WARNING),
        ("info", Severity.INFO),
        ("style", Severity.STYLE),
        ("none", None),
        (" Warning ", Severity.WARNING),
        ("NONE", None),
    ],
)
def test_every_name_parses(text: str, expected: Severity | None) -> None:
    assert parse_threshold(text) is expected


@pytest.mark.parametrize("text", ["", "warn", "never", "off", "critical", "1"])
def test_other_words_are_a_usage_error_on_the_command_line(text: str) -> None:
    with pytest.raises(UsageError, match=r"^--failure-threshold: .*one of: error, warning"):
        parse_threshold(text)


def test_a_bad_config_value_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^a.toml: \[lint\] failure-threshold: "):
        parse_threshold("loud", "a.toml: [lint] failure-threshold")
    with pytest.raises(ConfigError, match="expected one of"):
        parse_threshold(3, "a.toml: [lint] failure-threshold")


def test_option_over_config_over_default() -> None:
    assert choose_threshold(None) is DEFAULT is Severity.WARNING
    assert choose_threshold(None, "error") is Severity.ERROR
    assert choose_threshold("info", "error") is Severity.INFO
    assert choose_threshold("none", "error") is None
    assert NAMES == ("error", "warning", "info", "style", "none")


def test_fails_at_or_above_the_threshold() -> None:
    info = Finding(rule_id="TD000", severity=Severity.INFO, message="m")
    assert fails([info], Severity.INFO) and fails([info], Severity.STYLE)
    assert (
        not fails([info], Severity.WARNING) and not fails([info], None) and not fails([], DEFAULT)
    )


@pytest.mark.parametrize("command", ["lint", "context"])
def test_gating_commands_share_names_and_messages(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox:1.36\nRUN sudo true\n")
    target = str(tmp_path / "Dockerfile") if command == "lint" else str(tmp_path)
    assert run([command, target, "-q", "--failure-threshold", "none"]) == 0
    assert run([command, target, "-q", "--failure-threshold", "loud"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "trimdock: --failure-threshold: unknown failure threshold 'loud' "
        "(one of: error, warning, info, style, none)"
    )
