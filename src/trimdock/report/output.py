"""Writing a finished report: stdout or a file, written whole or not at all."""

from __future__ import annotations

import errno
import json
import os
import secrets
import stat
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

from rich.console import Console

from trimdock.errors import UsageError


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


def to_json_text(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


# Attempts at a fresh random temp name before giving up: a clash is a 1-in-2**64 event, so
# running out means the folder is hostile (or full of our leftovers), not bad luck.
_TEMP_NAME_ATTEMPTS = 100


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: never a partial file.

    The one writer for every file trimdock produces on request (`--output`,
    `--write-dockerignore`). Modes follow the user, as a plain shell redirect would: a new file
    gets 0666 minus the umask, an existing file keeps its mode. Whatever ends the write (an
    error, Ctrl-C, SIGTERM), the temporary file is removed and `path` is left as it was.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError("directory does not exist", source=str(directory))
    data = content.encode("utf-8") if isinstance(content, str) else content
    if (path.exists() and not path.is_file()) or path.as_posix().startswith("/dev/"):
        # /dev/null, /dev/stdout, a FIFO: renaming over it would replace the device itself.
        try:
            with open(path, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise UsageError(f"cannot write: {exc.strerror}", source=str(path)) from exc
        return
    tmp: Path | None = None
    try:
        fd, tmp = _create_temp(directory, path.name)
        with os.fdopen(fd, "wb") as handle:
            mode = _existing_mode(path)
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # the rename must not land before the bytes do
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise UsageError(f"cannot write: {exc.strerror or exc}", source=str(path)) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _create_temp(directory: Path, name: str) -> tuple[int, Path]:
    """A new hidden file beside the target, created with mode 0666 so that the kernel applies
    the umask (tempfile.mkstemp forces 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(_TEMP_NAME_ATTEMPTS):
        candidate = directory / f".{name}.{secrets.token_hex(8)}.tmp"
        try:
            return os.open(candidate, flags, 0o666), candidate
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(directory))


def _existing_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None


REPORT_WIDTH = 120


class _ReportConsole(Console):
    def on_broken_pipe(self) -> None:
        # rich's default exits 1, the threshold-failed code; the CLI owns that decision
        # (a closed stdout is exit 141 there, see cli/main.py).
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def make_console(*, no_color: bool, width: int | None = None) -> Console:
    """A console for text reports; colour off when asked, when NO_COLOR is set or not a tty."""
    console = _ReportConsole(
        no_color=no_color or bool(os.environ.get("NO_COLOR")),
        highlight=False,
        soft_wrap=False,
        width=width,
    )
    if width is None and not console.is_terminal and "COLUMNS" not in os.environ:
        # Piped into a file, a CI log or less: rich's 80-column default would cut the
        # instruction and path columns that make a report useful.
        console.width = REPORT_WIDTH
    return console


def emit(content: str, output: Path | None) -> None:
    """Send a rendered report to `output` (atomically) or stdout."""
    if output is None:
        sys.stdout.write(content)
        sys.stdout.flush()
    else:
        write_atomically(output, content)
