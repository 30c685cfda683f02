"""Options every report command shares, and the one way a report reaches the user."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from trimdock.cli.completion import complete_images
from trimdock.config import RawConfig, load_config
from trimdock.report.formats import FindingFormat
from trimdock.report.output import REPORT_WIDTH, OutputFormat, emit, make_console, to_json_text
from trimdock.report.progress import finish as finish_progress

IMAGE_HELP = (
    "NAME[:TAG] (local engine), docker-daemon:NAME, docker-archive:FILE, oci:DIR[:TAG], "
    "oci-archive:FILE, docker://REGISTRY/REPO:TAG, or a path to an archive."
)
# Every command that reads an image takes it, and the options of its source, the same way.
ImageArgument = Annotated[
    str,
    typer.Argument(help=IMAGE_HELP, show_default=False, autocompletion=complete_images),
]
PlatformOption = Annotated[
    str | None,
    typer.Option(
        "--platform",
        help="Platform to pick from a multi-platform index: os/arch or os/arch/variant.",
    ),
]
NoVerifyOption = Annotated[
    bool,
    typer.Option(
        "--no-verify",
        help="Skip the layer digest checks (faster on large uncompressed archives; use "
        "only for archives you trust).",
    ),
]
InsecureOption = Annotated[
    bool,
    typer.Option(
        "--insecure", help="docker://: plain HTTP to a registry on loopback (127.0.0.1:5000)."
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-F", help="Report format.", case_sensitive=False),
]
# The commands that report findings (lint, scan, check) offer every finding format.
FindingFormatOption = Annotated[
    FindingFormat,
    typer.Option("--format", "-F", help="Report format.", case_sensitive=False),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the report to FILE (atomically) instead of stdout."),
]
NoColorOption = Annotated[bool, typer.Option("--no-color", help="Plain text without colour.")]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print nothing on stdout; the exit code tells.")
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Settings file (default: nearest .trimdock.toml or pyproject.toml [tool.trimdock]).",
    ),
]


@dataclass(frozen=True)
class OutputOptions:
    format: OutputFormat = OutputFormat.TEXT
    output: Path | None = None
    no_color: bool = False
    quiet: bool = False


def deliver(
    options: OutputOptions,
    *,
    json_data: Callable[[], Any],
    render_text: Callable[[Console], None],
    render_html: Callable[[], str] | None = None,
) -> None:
    """Render the report in the chosen format and send it to stdout or the output file.

    `--quiet` silences stdout only; a report asked for with `--output` is still written.
    HTML is `render_html`'s page, or else the JSON report laid out as tables.
    """
    finish_progress()  # the report never shares the terminal with a progress bar
    if options.quiet and options.output is None:
        return
    if options.format is OutputFormat.HTML:
        from trimdock.report.html import render_document  # jinja2 only when asked for

        emit(render_html() if render_html else render_document(json_data()), options.output)
        return
    if options.format is OutputFormat.JSON:
        emit(to_json_text(json_data()), options.output)
        return
    if options.output is not None:
        buffer = io.StringIO()
        console = Console(file=buffer, no_color=True, width=REPORT_WIDTH, highlight=False)
        render_text(console)
        emit(buffer.getvalue(), options.output)
        return
    render_text(make_console(no_color=options.no_color))


def settings(explicit: Path | None, start: Path | None = None) -> RawConfig:
    return load_config(explicit, start)


def warn(message: str) -> None:
    """A problem that does not stop the run: one line on stderr, the exit code unchanged."""
    sys.stderr.write(f"trimdock: warning: {message}\n")
