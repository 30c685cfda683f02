from __future__ import annotations

from pathlib import Path

import pytest

from trimdock import __version__
from trimdock.cli.main import run
from trimdock.config import load_config
from trimdock.errors import ConfigError


def test_version_prints_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"trimdock {__version__}"


def test_unknown_command_is_a_usage_error() -> None:
    assert run(["no-such-command"]) == 2


def test_unknown_config_section_is_rejected(tmp_path: Path) -> None:
    cfg = tmp_path / ".trimdock.toml"
    cfg.write_text("[layerz]\nmax-waste = 1\n")
    with pytest.raises(ConfigError, match=r"unknown section \[layerz\]"):
        load_config(start=tmp_path)


def test_unknown_config_key_is_rejected(tmp_path: Path) -> None:
    cfg = tmp_path / ".trimdock.toml"
    cfg.write_text("[layers]\nmax-wast = 1\n")
    config = load_config(start=tmp_path)
    with pytest.raises(ConfigError, match="unknown key 'max-wast' in \\[layers\\]"):
        config.section("layers", {"max-waste": (int, str)})


def test_pyproject_tool_section_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.trimdock.layers]\nmax-waste = '10%'\n")
    config = load_config(start=tmp_path)
    assert config.section("layers", {"max-waste": (int, str)}) == {"max-waste": "10%"}


def test_config_value_of_wrong_type_names_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / ".trimdock.toml"
    cfg.write_text("[layers]\nmin-efficiency = 'high'\n")
    config = load_config(start=tmp_path)
    with pytest.raises(ConfigError, match=r"\.trimdock\.toml: \[layers\] min-efficiency"):
        config.section("layers", {"min-efficiency": (int, float)})
