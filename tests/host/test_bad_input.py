"""Bad input: one clear line on stderr, exit code 2, nothing removed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.host.family import Family
from tests.support.engine import docker, image_exists
from trimdock.cli.main import run

TRIMDOCK = Path(sys.executable).parent / "trimdock"


def one_line_error(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    capsys.readouterr()
    assert run(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("trimdock: ")
    return lines[0]


def test_no_engine_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    for args in (["df"], ["prune", "--apply"]):
        line = one_line_error(capsys, args)
        assert "no engine socket there: is dockerd running?" in line
        assert str(tmp_path) in line


@pytest.fixture
def locked_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "engine.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    path.chmod(0)
    yield path
    server.close()


def test_permission_denied_on_the_socket(locked_socket: Path) -> None:
    # Root ignores file modes; drop the capabilities that let it, so mode 000 really applies.
    result = subprocess.run(
        [
            "setpriv",
            "--bounding-set=-dac_override,-dac_read_search",
            "--inh-caps=-dac_override,-dac_read_search",
            str(TRIMDOCK),
            "prune",
            "--apply",
        ],
        env={**os.environ, "DOCKER_HOST": f"unix://{locked_socket}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"trimdock: unix://{locked_socket}: permission denied on the engine socket "
        "(run as root or as a member of the socket's group, e.g. docker)"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["prune", "--unused-older-than", "3x"], "--unused-older-than: invalid duration '3x'"),
        (["prune", "--containers-older-than", "10"], "invalid duration '10'"),
        (["df", "--older-than", "soon"], "--older-than: invalid duration 'soon'"),
        (
            ["df", "--older-than", "99999999999999999999d"],
            "--older-than: duration '99999999999999999999d' is too long (at most 36500d",
        ),
        (["prune", "--unused-older-than", "36501d"], "is too long (at most 36500d, a century)"),
        (["prune", "--containers-older-than", "9" * 5000 + "s"], "is too long (at most 36500d"),
        (["prune", "--keep-newest", "-1"], "keep-newest must be 0 or more"),
        (["prune", "--policy", "nightly"], "unknown policy 'nightly'"),
        (["df", "--policy", "nightly"], "unknown policy 'nightly'"),
    ],
)
def test_invalid_options(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no config file found upwards
    assert message in one_line_error(capsys, args)


def test_unknown_key_in_a_named_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / ".trimdock.toml"
    config.write_text("[prune.policies.nightly]\nkeep-newest = 2\nprotekt = ['x']\n")
    line = one_line_error(capsys, ["prune", "--policy", "nightly", "--config", str(config)])
    assert f"{config}: unknown key 'protekt' in [prune.policies.nightly]" in line


@pytest.mark.engine
def test_protect_pattern_matching_nothing_removes_nothing(
    family: Family, capsys: pytest.CaptureFixture[str]
) -> None:
    before = docker("ps", "-aq", "--filter", f"label={family.label}").split()
    line = one_line_error(
        capsys,
        [
            "prune", "--apply", "--label", family.label, "--keep-newest", "0",
            "--protect", "no-such-repo-*",
        ],
    )  # fmt: skip
    assert "protect pattern 'no-such-repo-*' matches no image, container or volume" in line
    assert all(image_exists(family.ids[n]) for n in ("v1", "v2", "v3", "other", "dangling"))
    assert docker("ps", "-aq", "--filter", f"label={family.label}").split() == before
