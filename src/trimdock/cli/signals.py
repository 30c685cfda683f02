"""Signals end a run the way an exception does, so every cleanup on the way up runs.

Python's default SIGTERM action kills the process on the spot: no `finally`, no temp file
removed. While `signals_raise()` is active, SIGINT raises `Interrupted` and SIGTERM raises
`Terminated` in the main thread instead; the CLI turns either into one line and exit 130/143.
Any module that creates a temp file or a partial output only needs a `try/finally` (or
`except BaseException`) around it to be interrupt-safe; nothing registers itself here.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from trimdock.errors import Interrupted, Terminated

_RAISED: dict[int, type[Interrupted]] = {
    signal.SIGINT: Interrupted,
    signal.SIGTERM: Terminated,
}


@contextmanager
def signals_raise() -> Iterator[None]:
    """Turn SIGINT/SIGTERM into exceptions for the duration of the block (main thread only).

    A signal the parent set to be ignored (`nohup`, `cmd &` in a script) stays ignored. After
    the first signal, repeats are ignored: a second Ctrl-C (people press it twice) must not
    abort the cleanups the first one started and leave a half-written temp file behind;
    SIGKILL still ends a run whose cleanup is stuck.
    """
    stopping = False
    owner = os.getpid()
    previous: dict[int, signal._HANDLER] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if os.getpid() != owner:
            _in_worker(signum)
            return
        if stopping:
            return
        stopping = True
        raise _RAISED[signum]()

    for signum in _RAISED:
        current = signal.getsignal(signum)
        if current == signal.SIG_IGN:
            continue
        previous[signum] = current
        signal.signal(signum, handler)
    try:
        yield
    finally:
        stopping = True  # a signal during the restore below is too late to act on
        for signum, old in previous.items():
            signal.signal(signum, old)


def _in_worker(signum: int) -> None:
    """A forked worker (lint's process pool) inherits the handler. Ctrl-C reaches the whole
    process group: the parent reports it and ends its workers, so a worker ignores SIGINT (no
    traceback per worker). SIGTERM is how a parent ends a worker (Pool.terminate): it dies of it
    as it would without this module."""
    if signum == signal.SIGTERM:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
