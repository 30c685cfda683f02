"""`trimdock lint`: parse options, run the lint service (rules/service.py), render."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from trimdock import __version__
from trimdock.cli.common import ConfigOption, NoColorOption, OutputOption, QuietOption, settings
from trimdock.cli.completion import complete_rule_ids
from trimdock.context.rules import RULES as CONTEXT_RULES
from trimdock.report.formats import FindingFormat, render_findings
from trimdock.report.output import emit
from trimdock.report.threshold import threshold_help
from trimdock.rules import shellcheck
from trimdock.rules.registry import RULE_INFOS
from trimdock.rules.service import MIN_FILES_PER_JOB, LintRequest, run_lint, settings_for

ALL_RULES = {**RULE_INFOS, **CONTEXT_RULES}


def register(app: typer.Typer) -> None:
    @app.command("lint")
    def lint_command(
        files: Annotated[
            list[str] | None,
            typer.Argument(help="Dockerfiles to check ('-' reads stdin). Default: ./Dockerfile."),
        ] = None,
        fmt: Annotated[
            FindingFormat,
            typer.Option("--format", "-F", help="Report format.", case_sensitive=False),
        ] = FindingFormat.TEXT,
        output: OutputOption = None,
        no_color: NoColorOption = False,
        quiet: QuietOption = False,
        config: ConfigOption = None,
        ignore: Annotated[
            list[str] | None,
            typer.Option(
                "--ignore",
                help="Rule id to skip (TDnnn or hadolint DLnnnn); repeatable.",
                autocompletion=complete_rule_ids,
            ),
        ] = None,
        failure_threshold: Annotated[
            str | None,
            typer.Option(
                "--failure-threshold",
                help=threshold_help("lint"),
            ),
        ] = None,
        context: Annotated[
            Path | None,
            typer.Option("--context", help="Build context directory, to weigh whole-context COPY."),
        ] = None,
        jobs: Annotated[
            int,
            typer.Option(
                "--jobs",
                "-j",
                min=0,
                help="Processes checking files in parallel (0: one per CPU when there are "
                f"at least {MIN_FILES_PER_JOB * 2} files).",
            ),
        ] = 0,
        no_shellcheck: Annotated[
            bool,
            typer.Option(
                "--no-shellcheck", help="Do not run ShellCheck on RUN bodies (SCnnnn findings)."
            ),
        ] = False,
    ) -> None:
        """Check Dockerfiles for size, cache, security and production problems."""
        lint_settings = settings_for(
            settings(config), ignore or [], failure_threshold, no_shellcheck
        )
        request = LintRequest(tuple(files or ["Dockerfile"]), lint_settings, context, jobs)
        result = run_lint(request)
        for message in (*result.unreadable, *result.notes):
            sys.stderr.write(f"trimdock: {message}\n")
        findings = list(result.findings)
        if result.checked and (output is not None or not quiet):
            color = not no_color and output is None and sys.stdout.isatty()
            report = render_findings(
                findings,
                fmt,
                rules={**ALL_RULES, **shellcheck.rule_infos(findings)},
                sources=result.sources,
                tool_version=__version__,
                files=list(result.checked),
                color=color,
            )
            emit(report, output)
        if result.unreadable:
            raise typer.Exit(2)
        if result.failed:
            raise typer.Exit(1)
