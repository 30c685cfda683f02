"""The CPU deadline that stops bashlex where it loops forever on hostile input."""

from __future__ import annotations

import contextlib
import signal

import pytest

from trimdock.dockerfile.deadline import DeadlineExceeded, cpu_deadline
from trimdock.dockerfile.shell import parse_script


def spin() -> None:
    while True:
        pass


def test_a_loop_is_stopped_after_its_cpu_time() -> None:
    with pytest.raises(DeadlineExceeded), cpu_deadline(0.05):
        spin()
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGPROF) in (signal.SIG_DFL, None)


def test_a_swallowed_deadline_raises_again() -> None:
    # A signal handler that runs inside a garbage-collection callback has its exception ignored
    # (seen in the full suite: bashlex kept looping and grew to gigabytes). The timer repeats.
    with pytest.raises(DeadlineExceeded), cpu_deadline(0.05):
        with contextlib.suppress(DeadlineExceeded):  # swallowed, as in a gc callback
            spin()
        spin()


def test_an_outer_deadline_is_restored_with_what_it_has_left() -> None:
    class Outer(Exception):
        pass

    def outer(signum: int, frame: object) -> None:
        raise Outer

    previous = signal.signal(signal.SIGPROF, outer)
    signal.setitimer(signal.ITIMER_PROF, 5.0)
    try:
        with pytest.raises(DeadlineExceeded), cpu_deadline(0.05):
            spin()
        remaining, _ = signal.getitimer(signal.ITIMER_PROF)
        assert 0 < remaining < 5.0
        assert signal.getsignal(signal.SIGPROF) is outer
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def test_the_script_bashlex_loops_on_is_split_by_the_fallback() -> None:
    script = parse_script("a'${'")  # found by the dockerfile fuzz target: bashlex never returns
    assert not script.parsed
    assert [c.argv for c in script.commands] == [("a${",)]


def test_only_the_guarded_module_is_interrupted() -> None:
    # The block runs this test module's code, not `json`'s: the deadline never raises into it
    # (so it never lands in a gc callback or finaliser either), and the block ends normally.
    import time

    with cpu_deadline(0.02, only_in=("json",)):
        end = time.process_time() + 0.1
        while time.process_time() < end:
            pass
