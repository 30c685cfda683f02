"""Progress of long work on stderr: the phase, bytes done of the total, the layer being read.

    with progress_for(enabled=terminal_progress(options_quiet, json_output)):
        ...                       # anywhere below, without passing anything around:
        progress = current()
        progress.phase("reading layers", total=size)
        progress.step("layer 3", done=4096)

Whoever does the work (an image source, an analysis loop) reports to `current()`; only the
command decides whether anything is shown. Shown only on a terminal (stderr and stdout both),
never with --quiet or a JSON report, and only once the work has lasted `DELAY_SECONDS`: a run
under a second prints nothing at all. The display is transient (erased when the work ends),
so the report that follows is all that stays on the screen.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

DELAY_SECONDS = 1.0
T = TypeVar("T")


class Reporter:
    """Where work reports its progress; this base shows nothing (the default)."""

    def phase(self, name: str, *, total: int | None = None) -> None:
        """A new phase (`reading layers`, `analysing`), with its total bytes when known."""

    def step(self, what: str = "", *, done: int = 0) -> None:
        """`done` more bytes of the phase; `what` names the item at work (a layer)."""

    def finish(self) -> None:
        """The work is over: erase the display (before a report is written)."""


_SILENT = Reporter()
_current: ContextVar[Reporter] = ContextVar("trimdock_progress", default=_SILENT)


def current() -> Reporter:
    """The reporter of the running command (a silent one outside `progress_for`)."""
    return _current.get()


class _RichReporter(Reporter):
    """A rich progress bar on `console`, started by a timer after `delay` seconds."""

    def __init__(self, console: Console, delay: float) -> None:
        # Imported here: only a run watched on a terminal shows a bar, so only it pays for them.
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            DownloadColumn(binary_units=False),
            TextColumn("{task.fields[what]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            # The report goes to stdout once the bar is gone (`finish`); notes and warnings
            # written to stderr meanwhile appear above the bar.
            redirect_stdout=False,
        )
        self._task: TaskID | None = None
        self._lock = threading.Lock()
        self._started = False
        self._finished = False
        self._timer = threading.Timer(delay, self._start)
        self._timer.daemon = True
        self._timer.start()

    def _start(self) -> None:
        with self._lock:
            if not self._finished:
                self._bar.start()
                self._started = True

    def finish(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._finished = True
            if self._started:
                self._started = False
                self._bar.stop()

    def phase(self, name: str, *, total: int | None = None) -> None:
        with self._lock:
            if self._task is not None:
                self._bar.remove_task(self._task)
            self._task = self._bar.add_task(name, total=total, what="")

    def step(self, what: str = "", *, done: int = 0) -> None:
        with self._lock:
            if self._task is None:
                self._task = self._bar.add_task("working", total=None, what="")
            if what:
                self._bar.update(self._task, advance=done, what=what)
            else:
                self._bar.update(self._task, advance=done)


def track(
    items: Iterable[T], phase: str, *, size: Callable[[T], int], label: Callable[[T], str]
) -> Iterator[T]:
    """`items` one by one under `phase`: each counts as done when the next is asked for."""
    listed = list(items)
    reporter = current()
    reporter.phase(phase, total=sum(size(item) for item in listed))
    previous: T | None = None
    for item in listed:
        if previous is not None:
            reporter.step(done=size(previous))
        reporter.step(label(item))
        previous = item
        yield item
    if previous is not None:
        reporter.step(done=size(previous))


def finish() -> None:
    """Erase the running command's progress display, if any (a report is about to print)."""
    current().finish()


def terminal_progress(*, quiet: bool, json_report: bool) -> bool:
    """Whether a command shows progress: a person watching a terminal, not a pipe or a script."""
    return (
        not quiet
        and not json_report
        and sys.stderr is not None
        and sys.stderr.isatty()
        and sys.stdout is not None
        and sys.stdout.isatty()
    )


@contextmanager
def progress_for(
    *,
    enabled: bool,
    no_color: bool = False,
    console: Console | None = None,
    delay: float | None = None,
) -> Iterator[Reporter]:
    """Make `current()` show progress within the block when `enabled` (see module docstring)."""
    if not enabled:
        yield _SILENT
        return
    from rich.console import Console  # only on a terminal (see _RichReporter)

    reporter = _RichReporter(
        console or Console(stderr=True, no_color=no_color),
        DELAY_SECONDS if delay is None else delay,
    )
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)
        reporter.finish()
