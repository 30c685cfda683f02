"""The README stays true: its config example is accepted by every command's validator, and the
commands it documents exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trimdock.cli import context as context_cli
from trimdock.cli import layers as layers_cli
from trimdock.cli.main import run
from trimdock.config import load_config
from trimdock.host.policy import load_policy, validate_all
from trimdock.rules.engine import CONFIG_KEYS as LINT_KEYS
from trimdock.rules.engine import settings_from_config

README = Path(__file__).resolve().parents[1] / "README.md"


def _config_example() -> str:
    text = README.read_text()
    section = text[text.index("## Configuration") :]
    match = re.search(r"```toml\n(.*?)```", section, re.S)
    assert match, "README has no toml example under Configuration"
    return match.group(1)


def test_readme_config_example_is_valid_for_every_command(tmp_path: Path) -> None:
    (tmp_path / ".trimdock.toml").write_text(_config_example())
    config = load_config(start=tmp_path)
    layers = config.section("layers", layers_cli.CONFIG_KEYS)
    assert layers["max-waste"] == "20MB"
    lint = settings_from_config(config.section("lint", LINT_KEYS))
    assert "TD116" in lint.ignore
    assert config.section("context", context_cli.CONFIG_KEYS)["builder"] == "legacy"
    validate_all(config)
    nightly = load_policy(config, "nightly")
    assert nightly.keep_newest == 3


@pytest.mark.parametrize(
    "command",
    [
        "layers",
        "lint",
        "explain",
        "context",
        "df",
        "prune",
        "fix",
        "explore",
        "check",
        "scan",
        "db",
        "diff",
    ],
)
def test_documented_commands_have_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([command, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out
