"""`trimdock context`: what the build context sends, what .dockerignore excludes, what COPY uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trimdock.cli.common import (
    ConfigOption,
    FormatOption,
    NoColorOption,
    OutputOption,
    OutputOptions,
    QuietOption,
    deliver,
    settings,
)
from trimdock.context.findings import FindingSettings
from trimdock.context.render import render_text, to_json
from trimdock.context.service import ContextRequest, ensure_directory, run_context
from trimdock.context.walk import Builder
from trimdock.errors import ConfigError, UsageError
from trimdock.report.finding import Severity
from trimdock.report.output import OutputFormat

CONFIG_KEYS: dict[str, type | tuple[type, ...]] = {
    "builder": str,
    "fail-on": str,
    "large-context-bytes": int,
    "unused-min-bytes": int,
}


def _fail_threshold(text: str, source: str) -> Severity | None:
    if text.strip().lower() == "none":
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise UsageError(f"{exc} or none", source=source) from exc


def _builder(text: str, source: str) -> Builder:
    try:
        return Builder(text.strip().lower())
    except ValueError:
        raise UsageError(f"unknown builder {text!r} (buildkit or legacy)", source=source) from None


def _build_args(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, eq, rest = value.partition("=")
        if not eq or not key:
            raise UsageError(f"--build-arg {value!r}: expected NAME=VALUE")
        out[key] = rest
    return out


def context_command(
    directory: Annotated[
        Path, typer.Argument(help="The build context directory.", readable=False)
    ] = Path("."),
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Dockerfile (default: DIR/Dockerfile).", readable=False),
    ] = None,
    builder: Annotated[
        str | None,
        typer.Option("--builder", help="Walk semantics to predict: buildkit (default) or legacy."),
    ] = None,
    build_arg: Annotated[
        list[str] | None,
        typer.Option("--build-arg", help="NAME=VALUE used to expand COPY sources."),
    ] = None,
    suggest: Annotated[
        bool, typer.Option("--suggest", help="Include a proven minimal .dockerignore.")
    ] = False,
    write_dockerignore: Annotated[
        bool,
        typer.Option(
            "--write-dockerignore",
            help="Write the proven minimal .dockerignore (replaces the one in use).",
        ),
    ] = False,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding is at least this severe: error (default), warning, "
            "info, style, or none.",
        ),
    ] = None,
    large_context: Annotated[
        int | None,
        typer.Option("--large-context-bytes", help="TD501 limit (default 50000000)."),
    ] = None,
    format: FormatOption = OutputFormat.TEXT,
    output: OutputOption = None,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    config: ConfigOption = None,
) -> None:
    """Report what a build sends, what .dockerignore excludes and what no COPY/ADD uses."""
    ensure_directory(directory)
    raw = settings(config, directory)
    section: dict[str, Any] = raw.section("context", CONFIG_KEYS)
    # An error names where the bad value came from: the option, or the file and key.
    chosen = _builder(
        builder or section.get("builder", "buildkit"),
        "--builder" if builder else raw.source("context", "builder"),
    )
    threshold = _fail_threshold(
        fail_on or section.get("fail-on", "error"),
        "--fail-on" if fail_on else raw.source("context", "fail-on"),
    )
    defaults = FindingSettings()
    limit = large_context if large_context is not None else section.get("large-context-bytes")
    unused_min = section.get("unused-min-bytes", defaults.unused_min_bytes)
    for name, value in (("large-context-bytes", limit), ("unused-min-bytes", unused_min)):
        if value is not None and value < 0:
            given = name == "large-context-bytes" and large_context is not None
            where = f"--{name}" if given else raw.source("context", name)
            raise ConfigError(f"must not be negative, got {value}", source=where)
    request = ContextRequest(
        context=directory,
        dockerfile=file,
        builder=chosen,
        build_args=_build_args(build_arg or []),
        settings=FindingSettings(
            large_context_bytes=defaults.large_context_bytes if limit is None else limit,
            unused_min_bytes=unused_min,
        ),
        suggest=suggest,
        write=write_dockerignore,
    )
    result = run_context(request)
    deliver(
        OutputOptions(format=format, output=output, no_color=no_color, quiet=quiet),
        json_data=lambda: to_json(result),
        render_text=lambda console: render_text(console, result),
    )
    if threshold is not None and any(f.severity.at_least(threshold) for f in result.findings):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("context")(context_command)
