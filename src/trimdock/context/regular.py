"""Reading a file a user named (Dockerfile, ignore file) without ever blocking on it.

A FIFO opened for reading waits for a writer forever, and a device can stream without end: only
regular files are read. The type is checked before opening, opened non-blocking, and checked
again on the descriptor (the path may have been replaced in between).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotRegularFile(OSError):
    """The path exists but is a FIFO, socket, device or directory."""


def read_regular(path: Path) -> bytes:
    """The whole content of a regular file (follows symlinks); OSError otherwise."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise NotRegularFile(0, "not a regular file")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(0, "not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)
