"""`trimdock lint`: parse options, run the lint service (rules/service.py), render."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

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
from trimdock.cli.completion import complete_rule_ids
from trimdock.context.rules import RULES as CONTEXT_RULES
from trimdock.report.formats import FindingFormat, render_findings
from trimdock.report.output import emit
from trimdock.report.threshold import threshold_help
from trimdock.rules import shellcheck
from trimdock.rules.registry import RULE_INFOS
from trimdock.rules.service import MIN_FILES_PER_JOB, LintRequest, run_lint, settings_for
from trimdock.runtime.compose import service as compose
from trimdock.runtime.compose.rules import COMPOSE_RULES

ALL_RULES = {**RULE_INFOS, **CONTEXT_RULES, **COMPOSE_RULES}


def register(app: typer.Typer) -> None:
    @app.command("lint")
    def lint_command(
        files: Annotated[
            list[str] | None,
            typer.Argument(help="Dockerfiles to check ('-' reads stdin). Default: ./Dockerfile."),
        ] = None,
        fmt: FindingFormatOption = FindingFormat.TEXT,
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
        fix: Annotated[
            bool, typer.Option("--fix", help="Apply the safe fixes in place, then report.")
        ] = False,
        unsafe_fixes: Annotated[
            bool, typer.Option("--unsafe-fixes", help="With --fix or --diff: the unsafe ones too.")
        ] = False,
        diff: Annotated[
            bool,
            typer.Option("--diff", help="Print the fixes as a unified diff; exit 1 if any."),
        ] = False,
    ) -> None:
        """Check Dockerfiles for size, cache, security and production problems."""
        lint_settings = settings_for(
            settings(config), ignore or [], failure_threshold, no_shellcheck
        )
        names = tuple(files or ["Dockerfile"])
        if fix or diff or unsafe_fixes:  # the same code as `trimdock fix`, without building
            from trimdock.cli.fix import fix_for_lint

            dockerfiles = [name for name in names if not compose.is_compose_file(name)]
            changed = fix_for_lint(dockerfiles, lint_settings, unsafe=unsafe_fixes, diff=diff)
            if diff:
                raise typer.Exit(1 if changed else 0)
        result = run_lint(LintRequest(names, lint_settings, context, jobs))
        for message in (*result.unreadable, *result.notes):
            sys.stderr.write(f"trimdock: {message}\n")
        findings = list(result.findings)
        if fix or unsafe_fixes:  # what is left carries its fix (the unsafe ones, with --fix)
            from trimdock.cli.fix import with_fixes

            findings = with_fixes(findings, result.sources, lint_settings)
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
