"""Progress on stderr: shown to a person at a terminal after a second, never anywhere else."""

from __future__ import annotations

import io
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rich.console import Console

from tests.support.engine import build_image, save_image
from trimdock.cli.main import run
from trimdock.report import progress
from trimdock.report.progress import current, progress_for, terminal_progress, track

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def terminal(buffer: io.StringIO) -> Console:
    return Console(file=buffer, force_terminal=True, width=100)


def test_phase_bytes_and_layer_are_shown() -> None:
    buffer = io.StringIO()
    with progress_for(enabled=True, console=terminal(buffer), delay=0):
        current().phase("reading layers", total=3000)
        current().step("layer 1", done=1000)
    shown = ANSI.sub("", buffer.getvalue())
    assert "reading layers" in shown
    assert "1.0/3.0 kB" in shown
    assert "layer 1" in shown
    assert buffer.getvalue().endswith("\x1b[2K")  # erased: only the report stays on screen


def test_a_short_run_shows_nothing() -> None:
    buffer = io.StringIO()
    with progress_for(enabled=True, console=terminal(buffer), delay=60):
        current().phase("reading layers", total=10)
        current().step("layer 0", done=10)
    assert buffer.getvalue() == ""


def test_nothing_outside_a_command_or_when_disabled() -> None:
    current().phase("x", total=1)  # the silent default: no console at all
    buffer = io.StringIO()
    with progress_for(enabled=False, console=terminal(buffer), delay=0) as reporter:
        assert reporter is current()
        current().phase("reading layers", total=10)
    assert buffer.getvalue() == ""


def test_track_counts_each_item_once_done() -> None:
    seen: list[tuple[str, str, int | None]] = []

    class Recorder(progress.Reporter):
        def phase(self, name: str, *, total: int | None = None) -> None:
            seen.append(("phase", name, total))

        def step(self, what: str = "", *, done: int = 0) -> None:
            seen.append(("step", what, done))

    token = progress._current.set(Recorder())
    try:
        assert list(track([3, 4], "analysing", size=lambda n: n, label=str)) == [3, 4]
    finally:
        progress._current.reset(token)
    assert seen == [
        ("phase", "analysing", 7),
        ("step", "3", 0),
        ("step", "", 3),
        ("step", "4", 0),
        ("step", "", 4),
    ]


def test_only_for_a_person_at_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    # Under pytest, stdout and stderr are captured: not terminals.
    assert not terminal_progress(quiet=False, json_report=False)
    with on_a_terminal():
        assert terminal_progress(quiet=False, json_report=False)
        assert not terminal_progress(quiet=True, json_report=False)
        assert not terminal_progress(quiet=False, json_report=True)


# -- the command on a pseudo-terminal ------------------------------------------------------------


@contextmanager
def on_a_terminal() -> Iterator[list[str]]:
    """stdout and stderr on a pseudo-terminal; what it showed, once the block ends."""
    leader, follower = os.openpty()
    os.set_blocking(leader, False)
    stream = open(follower, "w", buffering=1, closefd=True)  # noqa: SIM115
    shown: list[str] = []
    chunks: list[bytes] = []
    stop = threading.Event()

    def drain() -> None:  # a pty's buffer is small: keep reading so writers never block
        while True:
            try:
                chunks.append(os.read(leader, 1 << 16))
            except BlockingIOError:
                if stop.is_set():
                    return  # everything written before `stop` has been read
                stop.wait(0.01)
            except OSError:
                return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = stream
    try:
        yield shown
    finally:
        sys.stdout, sys.stderr = saved
        stream.flush()
        stop.set()
        reader.join()
        stream.close()
        os.close(leader)
        shown.append(b"".join(chunks).decode(errors="replace"))


@pytest.fixture(scope="module")
def archive(engine: None) -> Path:
    context = Path(__file__).parents[1] / "layers" / "fixtures" / "delete_dir"
    return save_image(build_image("layers-delete_dir", context))


def test_the_command_shows_progress_then_only_the_report(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    monkeypatch.setenv("COLUMNS", "100")
    with on_a_terminal() as shown:
        assert run(["layers", f"docker-archive:{archive}", "--no-color"]) == 0
    text = ANSI.sub("", shown[0])
    assert "analysing" in text and "layer 2" in text
    assert "wasted" in text  # the report itself


@pytest.mark.parametrize("flags", [["--format", "json"], ["-q"]])
def test_json_and_quiet_runs_show_no_progress(
    archive: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str]
) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    with on_a_terminal() as shown:
        assert run(["layers", f"docker-archive:{archive}", *flags]) == 0
    assert "analysing" not in shown[0]
    assert "\x1b[2K" not in shown[0]
