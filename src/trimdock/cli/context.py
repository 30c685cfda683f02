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
from trimdock.context.builderchoice import BuildSetup, choose_builder
from trimdock.context.detect import detect
from trimdock.context.findings import FindingSettings
from trimdock.context.render import Rendered, render_text, to_json
from trimdock.context.service import ContextRequest, ensure_directory, run_context
from trimdock.context.walk import Builder
from trimdock.errors import UsageError
from trimdock.report.output import OutputFormat
from trimdock.report.threshold import choose_threshold, fails, threshold_help
from trimdock.report.units import parse_size

CONFIG_KEYS: dict[str, type | tuple[type, ...]] = {
    "builder": str,
    "failure-threshold": str,
    "fail-on": str,  # the former name of failure-threshold, still read
    "large-context-bytes": (int, str),
    "unused-min-bytes": (int, str),
}
# The same gate as `lint`: one name, one default, one parser (report.threshold).
DEFAULT_LARGE_CONTEXT = "50MB"


def _size(value: str | int | None, source: str) -> int | None:
    if value is None:
        return None
    size = parse_size(value)
    if size is None and str(value).strip().startswith("-"):
        raise UsageError(f"must not be negative, got {value}", source=source)
    if size is None:
        raise UsageError(
            f"expected a size such as 50MB, 20MiB or 50000000, got {value!r}", source=source
        )
    return size


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
        Builder | None,
        typer.Option(
            "--builder",
            help="Walk semantics to predict (default: what the engine builds with: "
            "DOCKER_BUILDKIT, the engine's default builder, buildx).",
            case_sensitive=False,
        ),
    ] = None,
    build_arg: Annotated[
        list[str] | None,
        typer.Option("--build-arg", help="NAME=VALUE used to expand COPY sources."),
    ] = None,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest",
            help="Include a minimal .dockerignore, checked to keep what every COPY/ADD reads.",
        ),
    ] = False,
    write_dockerignore: Annotated[
        bool,
        typer.Option(
            "--write-dockerignore",
            help="Write that minimal .dockerignore (replaces the one in use).",
        ),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Build with the current and the suggested .dockerignore on the engine and "
            "compare the images' files; write only when they are the same.",
        ),
    ] = False,
    failure_threshold: Annotated[
        str | None,
        typer.Option(
            "--failure-threshold",
            "--fail-on",
            help=threshold_help("context"),
        ),
    ] = None,
    large_context: Annotated[
        str | None,
        typer.Option(
            "--large-context",
            "--large-context-bytes",
            help="TD501 limit: a size such as 50MB, 20MiB or 50000000 (default 50MB).",
        ),
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
    configured = section.get("builder")
    choice = choose_builder(
        detect(
            BuildSetup(
                option=builder,
                config=None
                if configured is None
                else _builder(configured, raw.source("context", "builder")),
                config_source=raw.source("context", "builder"),
            )
        )
    )
    key = "failure-threshold" if "failure-threshold" in section else "fail-on"
    threshold = choose_threshold(failure_threshold, section.get(key), raw.source("context", key))
    defaults = FindingSettings()
    limit = _size(
        large_context if large_context is not None else section.get("large-context-bytes"),
        "--large-context"
        if large_context is not None
        else raw.source("context", "large-context-bytes"),
    )
    unused_min = _size(
        section.get("unused-min-bytes", defaults.unused_min_bytes),
        raw.source("context", "unused-min-bytes"),
    )
    request = ContextRequest(
        context=directory,
        dockerfile=file,
        builder=choice.builder,
        builder_choice=choice,
        build_args=_build_args(build_arg or []),
        settings=FindingSettings(
            large_context_bytes=defaults.large_context_bytes if limit is None else limit,
            unused_min_bytes=defaults.unused_min_bytes if unused_min is None else unused_min,
        ),
        suggest=suggest,
        write=write_dockerignore,
        verify=verify,
    )
    result = run_context(request)
    deliver(
        OutputOptions(format=format, output=output, no_color=no_color, quiet=quiet),
        json_data=lambda: to_json(result),
        render_text=lambda console: render_text(console, result),
        render_html=lambda: _html(result),
    )
    if result.verification is not None and not result.verification.identical:
        raise typer.Exit(1)  # the suggestion changes the image: a failed check
    if fails(result.findings, threshold):
        raise typer.Exit(1)


def _html(result: Rendered) -> str:
    """The JSON report as a page, its findings with their Dockerfile lines."""
    from trimdock.report.finding import FileLocation
    from trimdock.report.html import finding_sources, render_document

    files = [f.location.path for f in result.findings if isinstance(f.location, FileLocation)]
    return render_document(to_json(result), finding_sources(files))


def register(app: typer.Typer) -> None:
    app.command("context")(context_command)
