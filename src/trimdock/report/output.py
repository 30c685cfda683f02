"""Writing a finished report: stdout or a file, written whole or not at all."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

from rich.console import Console

from trimdock.errors import UsageError


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def to_json_text(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: never a partial file."""
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
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write: {exc.strerror}", source=str(path)) from exc


REPORT_WIDTH = 120


def make_console(*, no_color: bool, width: int | None = None) -> Console:
    """A console for text reports; colour off when asked, when NO_COLOR is set or not a tty."""
    console = Console(
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
