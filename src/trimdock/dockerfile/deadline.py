"""A CPU-time deadline for third-party parsing that can loop forever on hostile input.

bashlex (a pure-Python port of bash's parser) never returns on some malformed words, e.g. the
script `a'${'` (found by fuzzing: its search for the closing quote wraps around). A signal is the
only way to stop pure Python code from the outside: ITIMER_PROF counts the process's CPU time, so
a machine under load does not turn slow parsing into a false timeout.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


class DeadlineExceeded(Exception):
    """The guarded call used more CPU time than it was given."""


def _raiser(modules: tuple[str, ...]) -> Callable[[int, FrameType | None], None]:
    def expired(signum: int, frame: FrameType | None) -> None:
        # Raise only into the guarded code itself. A handler that interrupts something else
        # (a garbage-collection callback or a finaliser that ran during the block) would have its
        # exception swallowed and reported as unraisable; the repeating timer comes back soon.
        if not modules or (frame is not None and _in(frame, modules)):
            raise DeadlineExceeded

    return expired


def _in(frame: FrameType, modules: tuple[str, ...]) -> bool:
    name = str(frame.f_globals.get("__name__", ""))
    return any(name == module or name.startswith(module + ".") for module in modules)


@contextmanager
def cpu_deadline(seconds: float, *, only_in: tuple[str, ...] = ()) -> Iterator[None]:
    """Raise DeadlineExceeded inside the block once it has used `seconds` of CPU time.

    `only_in` names the modules (e.g. `("bashlex",)`) whose code the exception may interrupt;
    when the timer finds the block running other code, it tries again a moment later.

    Nests inside an outer one-shot CPU timer (a caller's own deadline): the earlier of the two
    fires, and the outer timer is restored with what it has left. Only the main thread receives
    signals, and a repeating SIGPROF timer belongs to a sampling profiler or an enclosing
    deadline: in those cases the block runs without a deadline of its own.
    """
    outer_remaining, outer_interval = signal.getitimer(signal.ITIMER_PROF)
    if threading.current_thread() is not threading.main_thread() or outer_interval:
        yield
        return
    if outer_remaining and outer_remaining <= seconds:
        yield  # the outer deadline comes first and its own handler deals with it
        return
    started = time.process_time()
    previous = signal.signal(signal.SIGPROF, _raiser(only_in))
    # Repeating after the deadline: a handler that runs inside a garbage-collection callback or
    # a finaliser has its exception swallowed ("Exception ignored in ..."), and a one-shot timer
    # would then never stop the loop. The next tick raises again, outside of it.
    signal.setitimer(signal.ITIMER_PROF, seconds, _RETRY_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        if outer_remaining:
            left = outer_remaining - (time.process_time() - started)
            signal.setitimer(signal.ITIMER_PROF, max(left, _SOON))


# What a restored outer timer gets when its time ran out inside the block: it fires right away.
_SOON = 0.001
# How often an expired deadline raises again until the exception gets through.
_RETRY_SECONDS = 0.01
