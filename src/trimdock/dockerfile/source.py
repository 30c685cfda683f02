"""Reading a Dockerfile from a path or stdin: only regular files, bounded in size, never blocking.

A FIFO given as a Dockerfile used to block `lint` forever (open() waits for a writer); a
directory, a device or a huge file must be one clear line, not a hang or a memory spike.
"""

from __future__ import annotations

import os
import stat
import sys

from trimdock.errors import DockerfileError

# BuildKit documents no maximum Dockerfile size. Real Dockerfiles are kilobytes; 64 MiB bounds
# what a hostile file can cost (memory, parse time) while staying far above any real one.
MAX_DOCKERFILE_BYTES = 64 * 1024 * 1024
# NUL bytes in the first 64 KiB mean a binary file given by mistake (as `git` and `grep` judge).
_BINARY_PROBE = 64 * 1024

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)

# How a Dockerfile read from stdin (`-`) is named in reports.
STDIN_LABEL = "<stdin>"


def read_dockerfile(name: str) -> tuple[str, str]:
    """(display label, text) of a Dockerfile; `-` is stdin. Raises DockerfileError if unusable."""
    if name == "-":
        return _checked(STDIN_LABEL, sys.stdin.buffer.read(MAX_DOCKERFILE_BYTES + 1))
    try:
        # O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer, forever. The file
        # type is then checked on the open descriptor, so a swap after a stat() cannot fool it.
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise DockerfileError("no such file", source=name) from None
    except IsADirectoryError:
        raise DockerfileError("is a directory, not a Dockerfile", source=name) from None
    except OSError as exc:
        raise DockerfileError(f"cannot read: {exc.strerror or exc}", source=name) from None
    try:
        info = os.fstat(fd)
        _require_regular(name, info.st_mode)
        if info.st_size > MAX_DOCKERFILE_BYTES:
            raise DockerfileError(_too_large(), source=name)
        with os.fdopen(fd, "rb") as handle:
            fd = -1  # the file object owns it now
            data = handle.read(MAX_DOCKERFILE_BYTES + 1)  # a file may grow after fstat
    except OSError as exc:
        raise DockerfileError(f"cannot read: {exc.strerror or exc}", source=name) from None
    finally:
        if fd >= 0:
            os.close(fd)
    return _checked(name, data)


def _require_regular(name: str, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise DockerfileError("is a directory, not a Dockerfile", source=name)
    if stat.S_ISREG(mode):
        return
    kind = next((label for test, label in _KINDS if test(mode)), "a special file")
    raise DockerfileError(f"is {kind}, not a regular file", source=name)


def _too_large() -> str:
    return f"larger than {MAX_DOCKERFILE_BYTES // (1024 * 1024)} MiB (trimdock's limit)"


def _checked(label: str, data: bytes) -> tuple[str, str]:
    if len(data) > MAX_DOCKERFILE_BYTES:
        raise DockerfileError(_too_large(), source=label)
    if b"\x00" in data[:_BINARY_PROBE]:
        raise DockerfileError("binary file (NUL bytes), not a Dockerfile", source=label)
    return label, data.decode("utf-8", errors="replace")
