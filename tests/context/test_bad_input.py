"""Bad input: reported and counted, never a crash or a hang."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.engine import REPO
from trimdock.cli.main import run

NOBODY = 65534


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict[str, Any]]:
    code = run(["context", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def _as_nobody(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            sys.executable,
            "-m",
            "trimdock",
            *args,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        check=False,
    )


def _nobody_can_run() -> str | None:
    """Tests run as root, whom permissions do not stop: drop to `nobody` with setpriv."""
    if os.geteuid() != 0:
        return None
    try:
        probe = _as_nobody(["--version"])
    except FileNotFoundError:
        return "setpriv is not installed"
    if probe.returncode != 0:
        return f"cannot run trimdock as nobody: {probe.stderr.strip()[:200]}"
    return None


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A directory `nobody` can reach (pytest's own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="trimdock-ctx-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_unreadable_file_and_unlistable_dir_are_reported_and_counted(shared_tmp: Path) -> None:
    reason = _nobody_can_run()
    if reason:
        pytest.skip(reason)
    root = shared_tmp / "ctx"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "inside").write_text("x")
    (root / "secret.bin").write_bytes(b"s" * 10)
    (root / "ok.txt").write_text("ok")
    (root / "Dockerfile").write_text("FROM busybox\nCOPY ok.txt /\n")
    os.chmod(root, 0o755)
    for path in (root / "Dockerfile", root / "ok.txt"):
        os.chmod(path, 0o644)
    os.chmod(root / "secret.bin", 0o600)
    os.chmod(root / "locked", 0o700)
    result = _as_nobody(["context", str(root), "--format", "json"])
    assert result.returncode == 1, result.stderr  # TD510 is an error: the CLI refuses the build
    data = json.loads(result.stdout)
    problems = {(p["path"], p["problem"]) for p in data["problems"]}
    assert problems == {("secret.bin", "unreadable-file"), ("locked", "unlistable-dir")}
    assert {f["rule"] for f in data["findings"] if f["severity"] == "error"} == {"TD510"}
    assert data["total"]["files"] == 3  # Dockerfile, ok.txt, secret.bin (locked/ unseen)
    # A context nobody may enter at all is bad input: exit 2 and one line, no traceback.
    os.chmod(root, 0o700)
    denied = _as_nobody(["context", str(root)])
    assert denied.returncode == 2
    assert denied.stderr.count("\n") == 1 and "internal error" not in denied.stderr


def test_symlink_loops_and_links_out_of_the_context_do_not_hang(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    (tmp_path / "self").symlink_to("self")
    (tmp_path / "up").symlink_to("..")
    (tmp_path / "abs").symlink_to("/etc")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "back").symlink_to("..")
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nCOPY a /x\nCOPY self /y\nCOPY d/back/d /z\n"
    )
    started = time.monotonic()
    code, data = _json(capsys, [str(tmp_path), "--fail-on", "none"])
    assert time.monotonic() - started < 10
    assert code == 0
    errors = [i["errors"] for i in data["instructions"]]
    assert errors[0] == [{"source": "a", "error": "symlink-loop"}]
    assert errors[1] == [{"source": "self", "error": "symlink-loop"}]
    assert errors[2] == []  # d/back -> .. -> the context root, then d
    assert data["total"]["files"] == 7  # five links, d/back and the Dockerfile


def test_odd_bytes_in_names_are_shown_escaped_and_json_stays_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = os.fsencode(tmp_path)
    for name in (b"bad\xff\xfe.txt", b"new\nline", b" lead", b"tab\tx", b"back\\slash"):
        with open(os.path.join(root, name), "wb") as handle:
            handle.write(b"12345")
    (tmp_path / "Dockerfile").write_text("FROM busybox\nCOPY Dockerfile /\n")
    code, data = _json(capsys, [str(tmp_path), "--suggest", "--fail-on", "none"])
    assert code == 0
    assert data["unused"] == {"files": 5, "bytes": 25}
    shown = {row["path"] for row in data["biggest_unused"]}
    assert "bad\\xff\\xfe.txt" in shown and "new\\nline" in shown
    suggestion = data["suggestion"]
    assert suggestion["proven"] and suggestion["after"]["files"] <= 2
    # The text report prints them too, without crashing the terminal writer.
    assert run(["context", str(tmp_path), "--fail-on", "none", "--no-color"]) == 0


def test_a_context_of_200000_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = os.fsencode(tmp_path)
    for d in range(200):
        directory = os.path.join(root, b"d%03d" % d)
        os.mkdir(directory)
        for f in range(1000):
            os.close(os.open(os.path.join(directory, b"f%04d.txt" % f), os.O_CREAT | os.O_WRONLY))
    (tmp_path / "Dockerfile").write_text("FROM busybox\nCOPY d000/ /app/\n")
    (tmp_path / ".dockerignore").write_text("d1*\n!d150/f0001.txt\n**/*.log\n")
    started = time.monotonic()
    code, data = _json(capsys, [str(tmp_path), "--suggest"])
    elapsed = time.monotonic() - started
    assert code == 0
    assert data["total"]["files"] == 200_002
    assert data["excluded"]["files"] == 100_000 - 1
    assert data["instructions"][0]["files"] == 1000
    assert data["suggestion"]["proven"]
    assert elapsed < 120  # a guard against quadratic behaviour, not a benchmark
