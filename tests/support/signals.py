"""Children that receive Ctrl-C as a terminal's foreground job does.

A shell without job control starts background commands (`cmd &`, how CI runners and `setsid`
often start the suite) with SIGINT ignored, and an ignored signal stays ignored across exec:
trimdock keeps it so (as nohup expects). Tests that send SIGINT on purpose restore the default
in the child first, so they test trimdock, not how the suite was started.
"""

from __future__ import annotations

import signal


def as_foreground_job() -> None:
    """`preexec_fn` for a child that Ctrl-C should reach."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
