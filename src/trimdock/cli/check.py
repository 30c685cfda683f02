"""`trimdock check IMAGE [-- ARGS]`: run the image on the engine and judge it for production."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from trimdock import __version__
from trimdock.cli.common import (
    ConfigOption,
    FindingFormatOption,
    NoColorOption,
    OutputOption,
    QuietOption,
    settings,
)
from trimdock.errors import ConfigError, UsageError
from trimdock.host.duration import parse_duration
from trimdock.report.formats import FindingFormat, render_findings
from trimdock.report.output import emit, to_json_text
from trimdock.report.units import parse_size
from trimdock.runtime import render
from trimdock.runtime.check_rules import CHECK_RULES, check_rule_id
from trimdock.runtime.verdicts import CHECK_IDS, judge

CONFIG_KEYS: Mapping[str, type | tuple[type, ...]] = {
    "allow": list,  # checks that may fail without failing the run: TD8nn ids or names
    "memory": (str, int),
    "cpus": (int, float),
    "window": str,
    "grace": str,
    "health-timeout": str,
}
MIN_MEMORY = 6 * 1024 * 1024  # the engine refuses less


@dataclass(frozen=True)
class CheckSettings:
    allow: frozenset[str]  # TD8nn ids
    memory: int
    cpus: float
    window: float
    grace: float
    health_timeout: float


def _seconds(text: str, source: str) -> float:
    value = parse_duration(text, source=source).total_seconds()
    if value <= 0:
        raise UsageError("must be more than 0 s", source=source)
    return value


def _memory(value: str | int, source: str) -> int:
    size = parse_size(value)
    if size is None or size < MIN_MEMORY:
        raise UsageError(f"expected a size of at least 6 MiB, got {value!r}", source=source)
    return size


def _cpus(value: float, source: str) -> float:
    if not 0.01 <= value <= 1024:
        raise UsageError(f"expected 0.01 to 1024 CPUs, got {value!r}", source=source)
    return float(value)


def load_settings(
    config: Path | None,
    *,
    memory: str | None,
    cpus: float | None,
    window: str | None,
    grace: str | None,
    health_timeout: str | None,
) -> CheckSettings:
    raw = settings(config)
    section = raw.section("check", CONFIG_KEYS)

    def where(key: str) -> str:
        return raw.source("check", key)

    allow: set[str] = set()
    for name in section.get("allow", []):
        rule_id = check_rule_id(str(name))
        if rule_id is None:
            raise ConfigError(
                f"unknown check {name!r} (TD800-TD813, or one of: {', '.join(CHECK_IDS)})",
                source=where("allow"),
            )
        allow.add(rule_id)
    return CheckSettings(
        allow=frozenset(allow),
        memory=_memory(memory, "--memory")
        if memory is not None
        else _memory(section.get("memory", "512MB"), where("memory")),
        cpus=_cpus(cpus, "--cpus")
        if cpus is not None
        else _cpus(section.get("cpus", 1.0), where("cpus")),
        window=_seconds(window, "--window")
        if window is not None
        else _seconds(section.get("window", "10s"), where("window")),
        grace=_seconds(grace, "--grace")
        if grace is not None
        else _seconds(section.get("grace", "10s"), where("grace")),
        health_timeout=_seconds(health_timeout, "--health-timeout")
        if health_timeout is not None
        else _seconds(section.get("health-timeout", "60s"), where("health-timeout")),
    )


def parse_config_file(text: str) -> tuple[str, str]:
    """`PATH:DEST`: an existing host file and an absolute path in the container."""
    source, sep, dest = text.rpartition(":")
    if not sep or not source or not dest.startswith("/"):
        raise UsageError("expected PATH:DEST with an absolute DEST", source="--config-file")
    path = Path(source)
    if not path.is_file():
        raise UsageError("not a file", source=source)
    return str(path.resolve()), dest


def _progress(quiet: bool) -> Any:
    def say(message: str) -> None:
        if not quiet and sys.stderr.isatty():
            sys.stderr.write(f"trimdock: {message}\n")

    return say


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check_command(
        image: Annotated[str, typer.Argument(help="Local image to run (NAME:TAG or id).")],
        args: Annotated[
            list[str] | None,
            typer.Argument(help="Command and arguments instead of the image's CMD (after --)."),
        ] = None,
        job: Annotated[
            bool, typer.Option("--job", help="A job image: it must exit 0 instead of staying up.")
        ] = False,
        memory: Annotated[
            str | None, typer.Option("--memory", help="Memory limit (default 512MB).")
        ] = None,
        cpus: Annotated[float | None, typer.Option("--cpus", help="CPU limit (default 1).")] = None,
        window: Annotated[
            str | None,
            typer.Option("--window", help="How long to watch it run (default 10s)."),
        ] = None,
        grace: Annotated[
            str | None,
            typer.Option("--grace", help="Grace period of the stop before SIGKILL (default 10s)."),
        ] = None,
        health_timeout: Annotated[
            str | None,
            typer.Option(
                "--health-timeout",
                help="How long to wait for healthy, or for a job to end (default 60s).",
            ),
        ] = None,
        config_file: Annotated[
            str | None,
            typer.Option(
                "--config-file",
                help="Mount a host file read-only at DEST, in place of the baked one.",
            ),
        ] = None,
        no_read_only: Annotated[
            bool, typer.Option("--no-read-only", help="Skip the second, read-only run.")
        ] = False,
        fmt: FindingFormatOption = FindingFormat.TEXT,
        output: OutputOption = None,
        no_color: NoColorOption = False,
        quiet: QuietOption = False,
        config: ConfigOption = None,
    ) -> None:
        """Run an image with limits and check it is ready for production.

        Checks start-up, SIGTERM handling, PID 1, logging, non-root, read-only root, ports,
        ENV defaults and peak resources; removes everything it created. Exit 1 when a check
        fails that [check] allow does not list.
        """
        options = load_settings(
            config,
            memory=memory,
            cpus=cpus,
            window=window,
            grace=grace,
            health_timeout=health_timeout,
        )
        # The runner brings the Docker SDK: imported when a check runs, not for its help.
        from trimdock.runtime.runner import CheckRequest, check_image

        request = CheckRequest(
            image=image,
            args=tuple(args or ()),
            job=job,
            memory=options.memory,
            cpus=options.cpus,
            window=options.window,
            grace=options.grace,
            health_timeout=options.health_timeout,
            config_file=parse_config_file(config_file) if config_file is not None else None,
            read_only_run=not no_read_only,
        )
        facts, run = check_image(request, _progress(quiet))
        results = judge(facts, run)
        if output is not None or not quiet:
            if fmt is FindingFormat.TEXT:
                report = render.text(facts, run, results)
            elif fmt is FindingFormat.JSON:
                report = to_json_text(
                    render.document(facts, run, results, options.allow, __version__)
                )
            else:
                report = render_findings(
                    render.findings(facts, results),
                    fmt,
                    rules=CHECK_RULES,
                    sources={},
                    tool_version=__version__,
                    color=not no_color and output is None and sys.stdout.isatty(),
                )
            emit(report, output)
        if render.failing(results, options.allow):
            raise typer.Exit(1)
