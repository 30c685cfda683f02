"""What `trimdock lint` accepts as a Dockerfile: regular files and stdin. Anything else (a FIFO,
a directory, a device, a file over the size limit) is one line on stderr and exit 2, at once,
and the other files given are still checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trimdock.cli.main import run
from trimdock.dockerfile.source import MAX_DOCKERFILE_BYTES

CLEAN = 'FROM debian:12-slim\nUSER app\nCMD ["app"]\n'


def _one_error_line(err: str, fragment: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("trimdock: ") and fragment in lines[0], err
    assert "Traceback" not in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "Dockerfile"
    os.mkfifo(fifo)
    # A subprocess, so a regression (open() waiting for a writer forever) fails the test
    # through the timeout instead of hanging the suite.
    result = subprocess.run(
        [sys.executable, "-m", "trimdock", "lint", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    _one_error_line(result.stderr, f"{fifo}: is a FIFO (named pipe), not a regular file")


def test_a_directory_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["lint", str(tmp_path)]) == 2
    _one_error_line(capsys.readouterr().err, "is a directory")


def test_a_device_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    assert run(["lint", "/dev/null"]) == 2
    _one_error_line(capsys.readouterr().err, "/dev/null: is a character device")


def test_a_file_over_the_size_limit_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = tmp_path / "Dockerfile"
    with huge.open("wb") as handle:  # sparse: no disk space, and it is never read
        handle.truncate(MAX_DOCKERFILE_BYTES + 1)
    assert run(["lint", str(huge)]) == 2
    _one_error_line(capsys.readouterr().err, "larger than 64 MiB")


def test_a_path_through_a_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text(CLEAN)
    assert run(["lint", str(tmp_path / "file" / "Dockerfile")]) == 2
    _one_error_line(capsys.readouterr().err, "cannot read: Not a directory")


def test_other_files_are_still_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "Dockerfile"
    good.write_text("FROM debian:12-slim\nRUN apt-get install -y curl\nUSER app\n")
    assert run(["lint", "-F", "json", str(tmp_path), str(good)]) == 2
    captured = capsys.readouterr()
    _one_error_line(captured.err, "is a directory")
    assert "TD203" in captured.out


def test_an_arg_bomb_is_a_finding_and_the_rest_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nine ARGs that each repeat the previous one ten times (about 550 bytes): 10^10 characters
    # unbounded, which exhausted memory before the expansion limits.
    lines = ["ARG a0=xxxxxxxxxx"]
    lines += [f"ARG a{i}=" + f"${{a{i - 1}}}" * 10 for i in range(1, 10)]
    lines += ["FROM busybox:${a9}", "RUN apt-get install -y curl", "USER app"]
    path = tmp_path / "Dockerfile"
    path.write_text("\n".join(lines) + "\n")
    assert run(["lint", "-F", "json", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.err == ""
    found = {(f["rule"], f["location"]["line"]) for f in json.loads(captured.out)["findings"]}
    assert ("TD010", 6) in found  # a5: the first value past 128 KiB
    assert ("TD203", 12) in found  # the rest of the file is still checked
