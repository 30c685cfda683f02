"""The one config loader: broken, hostile or misplaced settings files are one line naming the
file (and the key), never silently ignored, never read without bound."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.host.fake_engine import fake_engine
from trimdock.cli.main import run
from trimdock.config import CONFIG_FILE, MAX_CONFIG_BYTES, load_config
from trimdock.errors import ConfigError


def one_line(capsys: pytest.CaptureFixture[str], args: list[str], code: int = 2) -> str:
    capsys.readouterr()
    assert run(args) == code
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "internal error" not in lines[0]
    return lines[0]


# -- finding and reading the file ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[project\nname = 'x'\n", "invalid TOML"),  # malformed, no trimdock string in it
        ("[tool]\ntrimdock = 5\n", "[tool.trimdock] must be a table"),
        ("tool = 'x'\n", "[tool] must be a table"),
        ("[tool]\ntrimdock = [1, 2]\n", "[tool.trimdock] must be a table"),
    ],
)
def test_a_broken_pyproject_is_an_error_naming_it(tmp_path: Path, text: str, message: str) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(text)
    with pytest.raises(ConfigError, match=rf"^{pyproject}: .*") as info:
        load_config(start=tmp_path)
    assert message in str(info.value)


def test_dotted_tool_keys_are_read(tmp_path: Path) -> None:
    # No "[tool.trimdock" string in the file: the old text search skipped these settings.
    (tmp_path / "pyproject.toml").write_text("[tool]\ntrimdock.layers.top = 3\n")
    assert load_config(start=tmp_path).section("layers", {"top": int}) == {"top": 3}


def test_pyproject_without_settings_is_passed_over(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text("[layers]\ntop = 4\n")
    inner = tmp_path / "project"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[project]\nname = 'x'\n[tool.ruff]\nline-length = 9\n")
    config = load_config(start=inner)
    assert config.path == tmp_path / CONFIG_FILE


def test_a_directory_named_like_the_config_is_an_error(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).mkdir()
    with pytest.raises(ConfigError, match="is a directory, not a config file"):
        load_config(start=tmp_path)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("/dev/zero", "not a regular file (a character device), not a config file"),
        ("DIR", "is a directory, not a config file"),
        ("FIFO", "not a regular file (a FIFO), not a config file"),  # and no hang opening it
        ("MISSING", "config file not found"),
    ],
)
def test_config_option_says_what_the_path_is(
    name: str, message: str, tmp_path: Path, fifo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = {"DIR": str(tmp_path), "FIFO": str(fifo), "MISSING": str(tmp_path / "no.toml")}.get(
        name, name
    )
    line = one_line(capsys, ["lint", "--config", path, "-"])
    assert line == f"trimdock: {path}: {message}"


def test_an_oversized_config_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * MAX_CONFIG_BYTES + b"\n")
    with pytest.raises(ConfigError, match="larger than 1024 KiB"):
        load_config(big)


@pytest.mark.parametrize("opener", ["[", "{a = "])
def test_deeply_nested_toml_is_an_error(tmp_path: Path, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    deep = tmp_path / CONFIG_FILE
    deep.write_text("[df]\nx = " + opener * 100_000 + "1" + closer * 100_000 + "\n")
    with pytest.raises(ConfigError, match=rf"{deep}: invalid TOML: nested too deeply"):
        load_config(start=tmp_path)


def test_config_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_bytes(b"[layers]\ntop = 1 # \xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(start=tmp_path)


# -- values: the file and the key are named ------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "text", "where"),
    [
        (["layers", "busybox:latest"], "[layers]\nmax-waste = -5\n", "[layers] max-waste"),
        (["layers", "busybox:latest"], "[layers]\nmin-efficiency = 2\n", "[layers] min-efficiency"),
        (["layers", "busybox:latest"], "[layers]\ntop = -1\n", "[layers] top"),
        (["context", "."], "[context]\nunused-min-bytes = -1\n", "[context] unused-min-bytes"),
        (
            ["context", "."],
            "[context]\nlarge-context-bytes = -1\n",
            "[context] large-context-bytes",
        ),
        (["context", "."], "[context]\nbuilder = 'podman'\n", "[context] builder"),
        (["context", "."], "[context]\nfail-on = 'loud'\n", "[context] fail-on"),
        (["df"], "[df]\nsort = 'colour'\n", "[df] sort"),
        (["prune"], "[prune]\nkeep-newest = -1\n", "[prune] keep-newest"),
        (["prune"], "[prune]\nunused-older-than = '99999999999d'\n", "[prune] unused-older-than"),
    ],
)
def test_a_value_out_of_range_names_file_and_key(
    command: list[str],
    text: str,
    where: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / CONFIG_FILE
    config.write_text(text)
    line = one_line(capsys, command)
    assert line.startswith(f"trimdock: {config}: {where}"), line


def test_unknown_df_key_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / CONFIG_FILE
    config.write_text("[df]\nsrot = 'name'\n")
    line = one_line(capsys, ["df"])
    assert line == (f"trimdock: {config}: unknown key 'srot' in [df] (known keys: policy, sort)")


def test_a_value_given_by_hand_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = one_line(capsys, ["context", ".", "--large-context-bytes", "-1"])
    assert line.startswith("trimdock: --large-context: must not be negative")


# -- protect patterns: a typo by hand stops, a shared policy only warns -------------------------


@pytest.fixture
def empty_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fake engine with nothing on it, so that every protect pattern matches nothing."""
    directory = Path(tempfile.mkdtemp(prefix="tdcfg-", dir="/tmp"))
    socket_path = directory / "e.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
    monkeypatch.chdir(directory)
    (directory / CONFIG_FILE).write_text("[prune]\nprotect = ['base/*']\n")
    with fake_engine(socket_path):
        yield directory
    shutil.rmtree(directory)


@pytest.mark.parametrize("command", [["df"], ["prune"], ["df", "--format", "json"]])
def test_config_protect_pattern_matching_nothing_warns(
    command: list[str], empty_engine: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_line(capsys, command, code=0)
    assert line == (
        f"trimdock: warning: {empty_engine / CONFIG_FILE}: protect pattern 'base/*' matches no "
        "image, container or volume (patterns are globs on repo:tag, repo, image id, container "
        "or volume name)"
    )


def test_protect_flag_matching_nothing_stays_an_error(
    empty_engine: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_line(capsys, ["prune", "--apply", "--protect", "nightly-typo"])
    assert line.startswith("trimdock: --protect: protect pattern 'nightly-typo' matches no")


def test_df_section_sets_the_sort_and_policy(
    empty_engine: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (empty_engine / CONFIG_FILE).write_text(
        "[df]\nsort = 'name'\npolicy = 'deep'\n[prune.policies.deep]\nvolumes = true\n"
    )
    capsys.readouterr()
    assert run(["df", "--format", "json"]) == 0
    assert '"name": "deep"' in capsys.readouterr().out
