"""Ending a run from outside: Ctrl-C, SIGTERM and a reader that closes stdout.

The subprocess tests send real signals to `python -m trimdock` at a known phase (blocked
reading stdin; blocked on an engine request) and check the exit code, the one line, and that
no temp file or partial output is left, in a private TMPDIR and beside the --output target.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.host.fake_engine import fake_engine
from tests.support.signals import as_foreground_job
from trimdock.cli.main import STDOUT_CLOSED_EXIT, run
from trimdock.cli.signals import signals_raise
from trimdock.errors import Interrupted, Terminated
from trimdock.report import output as output_module
from trimdock.report.output import write_atomically

SIGNALS = [
    pytest.param(signal.SIGINT, 130, "trimdock: interrupted", id="SIGINT"),
    pytest.param(signal.SIGTERM, 143, "trimdock: terminated", id="SIGTERM"),
]
# More than a pipe holds (64 KiB on Linux): once the write returns, the child is reading.
STDIN_PREFIX = b"# padding\n" * 20_000
# Bound on waiting for a child that should already have ended; never reached when it works.
WAIT_SECONDS = 20


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Short path (an engine socket lives here too: Unix socket paths are limited to 108 bytes).
    directory = Path(tempfile.mkdtemp(prefix="tdsig-", dir="/tmp"))
    (directory / "tmp").mkdir()
    yield directory
    shutil.rmtree(directory)


def child_env(workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMDOCK_")}
    return {**env, "TMPDIR": str(workdir / "tmp"), "NO_COLOR": "1", **extra}


def trimdock(*args: str) -> list[str]:
    return [sys.executable, "-m", "trimdock", *args]


def assert_nothing_left(workdir: Path, expected: set[str]) -> None:
    assert {p.name for p in workdir.iterdir()} == expected
    assert list((workdir / "tmp").iterdir()) == []


@pytest.mark.parametrize(("signum", "code", "line"), SIGNALS)
def test_signal_while_reading_stdin(signum: int, code: int, line: str, workdir: Path) -> None:
    child = subprocess.Popen(
        trimdock("lint", "-", "--output", str(workdir / "report.txt")),
        cwd=workdir,
        env=child_env(workdir),
        preexec_fn=as_foreground_job,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdin is not None
    child.stdin.write(STDIN_PREFIX)
    child.stdin.flush()  # returns once the child has read most of it: it is in lint now
    child.send_signal(signum)
    out, err = child.communicate(timeout=WAIT_SECONDS)
    assert child.returncode == code
    assert err.decode() == line + "\n"
    assert out == b""
    assert_nothing_left(workdir, {"tmp"})


@pytest.mark.parametrize(("signum", "code", "line"), SIGNALS)
def test_signal_while_waiting_for_the_engine(
    signum: int, code: int, line: str, workdir: Path
) -> None:
    socket_path = workdir / "e.sock"
    with fake_engine(socket_path, hang={"/system/df"}) as engine:
        child = subprocess.Popen(
            trimdock("df", "--format", "json", "--output", str(workdir / "df.json")),
            cwd=workdir,
            env=child_env(workdir, DOCKER_HOST=engine.docker_host),
            preexec_fn=as_foreground_job,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert engine.asked.wait(WAIT_SECONDS), "trimdock never asked for /system/df"
            child.send_signal(signum)
            out, err = child.communicate(timeout=WAIT_SECONDS)
        finally:
            child.kill()
    assert child.returncode == code
    assert err.decode() == line + "\n"
    assert out == b""
    assert_nothing_left(workdir, {"tmp", "e.sock"})


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_closed_stdout_exits_141_quietly(fmt: str, workdir: Path) -> None:
    dockerfile = workdir / "Dockerfile"
    dockerfile.write_text("FROM ubuntu\nRUN apt-get update && apt-get install -y curl\n" * 50)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte, like `| head -0`
    try:
        result = subprocess.run(
            trimdock("lint", "--format", fmt, str(dockerfile)),
            cwd=workdir,
            env=child_env(workdir),
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=WAIT_SECONDS,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == STDOUT_CLOSED_EXIT
    assert result.stderr == b""  # no "Exception ignored ... BrokenPipeError" either


def test_ctrl_c_in_process_prints_its_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # typer turns KeyboardInterrupt into a silent exit 130; the line must still be printed.
    class Stdin:
        class buffer:
            @staticmethod
            def read(size: int = -1) -> bytes:
                raise KeyboardInterrupt

    monkeypatch.setattr(sys, "stdin", Stdin())
    assert run(["lint", "-"]) == 130
    assert capsys.readouterr().err == "trimdock: interrupted\n"


def test_repeated_signal_does_not_abort_the_cleanup() -> None:
    cleaned = False
    with pytest.raises(Terminated), signals_raise():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            pytest.fail("SIGTERM did not raise")
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # the impatient second press: ignored
            cleaned = True
    assert cleaned
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # restored after the block


def test_ignored_signal_stays_ignored() -> None:
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with signals_raise():
            os.kill(os.getpid(), signal.SIGTERM)  # nohup-style: must not raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_parallel_lint_ends_its_workers_quietly(workdir: Path) -> None:
    # Pool.terminate() sends SIGTERM to the forked workers, which inherit the handler: it must
    # not raise Terminated there (one traceback per worker on stderr).
    names = []
    for number in range(40):
        (workdir / f"D{number}").write_text(f"FROM busybox:1.36\nRUN echo {number}\n")
        names.append(f"D{number}")
    result = subprocess.run(
        trimdock("lint", "--jobs", "2", "--quiet", *names),
        cwd=workdir,
        env=child_env(workdir),
        capture_output=True,
        timeout=WAIT_SECONDS,
        check=False,
    )
    assert result.stderr == b""
    assert result.returncode in (0, 1)


def test_a_forked_worker_ignores_ctrl_c_and_dies_of_sigterm() -> None:
    with signals_raise():
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                os.kill(os.getpid(), signal.SIGINT)  # the parent's to report: ignored here
                os.kill(os.getpid(), signal.SIGTERM)
            finally:
                os._exit(3)  # reached only if SIGTERM did not end the worker
        _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status), status
    assert os.WTERMSIG(status) == signal.SIGTERM


def test_interrupted_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.json"
    target.write_text("old\n")

    def interrupted_fsync(fd: int) -> None:
        raise Interrupted

    monkeypatch.setattr(output_module.os, "fsync", interrupted_fsync)
    with pytest.raises(Interrupted):
        write_atomically(target, "new\n")
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    assert target.read_text() == "old\n"


def test_stdout_closed_check_needs_a_real_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    # A BrokenPipeError from anything but stdout (an engine socket, a worker) stays an error.
    from trimdock.cli import main

    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert main._stdout_closed() is False
