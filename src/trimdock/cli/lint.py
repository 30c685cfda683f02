"""`trimdock lint` and `trimdock explain`: thin I/O around the parser and the rule catalogue."""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trimdock import __version__
from trimdock.cli.common import ConfigOption, NoColorOption, OutputOption, QuietOption, settings
from trimdock.cli.completion import complete_rule_ids
from trimdock.context.rules import RULES as CONTEXT_RULES
from trimdock.dockerfile import parse
from trimdock.dockerfile.source import STDIN_LABEL, read_dockerfile
from trimdock.errors import ComposeError, DockerfileError, UsageError
from trimdock.report.finding import FileLocation, Finding
from trimdock.report.formats import FindingFormat, render_findings
from trimdock.report.output import emit
from trimdock.rules import shellcheck
from trimdock.rules.analysis import ContextFacts
from trimdock.rules.engine import (
    CONFIG_KEYS,
    LintSettings,
    lint,
    parse_threshold,
    settings_from_config,
)
from trimdock.rules.peers import known_without_equivalent
from trimdock.rules.registry import RULE_INFOS, lookup
from trimdock.rules.shellcheck import ShellScript, shellcheck_id
from trimdock.runtime.compose import service as compose
from trimdock.runtime.compose.rules import COMPOSE_RULES

if TYPE_CHECKING:  # the context analyzer is imported only when --context is given
    from trimdock.context.analysis import Analysis

ALL_RULES = {**RULE_INFOS, **CONTEXT_RULES, **COMPOSE_RULES}


class _ContextAnalyses:
    """One analysis of the build context per Dockerfile, shared by the TD101 evidence and the
    TD5xx findings (the context is scanned once per Dockerfile, not once per use)."""

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise UsageError("build context is not a directory", source=str(directory))
        self.directory = directory
        self._done: dict[str, Analysis] = {}

    def of(self, label: str) -> Analysis:
        # Imported here: the context analyzer costs start-up a plain lint does not need.
        from trimdock.context.service import ContextRequest, load_analysis

        if label not in self._done:
            request = ContextRequest(context=self.directory, dockerfile=Path(label))
            self._done[label] = load_analysis(request)
        return self._done[label]

    def facts(self, label: str) -> ContextFacts:
        """What the builder receives when `label` is built (its .dockerignore applied)."""
        from trimdock.context import facts

        if label != "-":
            try:
                return ContextFacts(*facts.facts_of(self.of(label)))
            except DockerfileError:
                pass  # unreadable: the lint reports it; weigh the context without it
        return ContextFacts(*facts.context_facts(self.directory, self.directory / "Dockerfile"))


_MIN_FILES_PER_JOB = 8
_MAX_AUTO_JOBS = 8
_Checked = tuple[str, str | None, list[Finding]]  # (label, text, findings); text None: error
_worker_settings = LintSettings()


def _check_file(name: str, lint_settings: LintSettings | None = None) -> _Checked:
    try:
        label, text = read_dockerfile(name)
    except DockerfileError as exc:
        return str(exc), None, []
    return label, text, lint(parse(text, label), lint_settings or _worker_settings)


def _init_worker(lint_settings: LintSettings) -> None:
    global _worker_settings
    _worker_settings = lint_settings


def _job_count(requested: int, files: int) -> int:
    if requested:
        return max(1, min(requested, files))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, _MAX_AUTO_JOBS, files // _MIN_FILES_PER_JOB))


def _check_files(names: list[str], lint_settings: LintSettings, jobs: int) -> Iterator[_Checked]:
    """Each file's result, in the order given; several processes share a long list of files.

    Files are independent, so a process pool (forked after the imports, which it shares) gives
    the same results in the same order; stdin is read here, so its file stays in this process.
    """
    count = _job_count(jobs, len(names))
    if count < 2 or "-" in names or "fork" not in multiprocessing.get_all_start_methods():
        for name in names:
            yield _check_file(name, lint_settings)
        return
    pool_context = multiprocessing.get_context("fork")
    chunk = max(1, min(16, len(names) // (count * 4)))
    with pool_context.Pool(count, initializer=_init_worker, initargs=(lint_settings,)) as pool:
        yield from pool.imap(_check_file, names, chunksize=chunk)


def _context_findings(
    analyses: _ContextAnalyses, dockerfiles: Sequence[str], lint_settings: LintSettings
) -> list[Finding]:
    """The build-context findings (TD5xx) for each Dockerfile built with the context, so one
    report, one SARIF file and one exit code cover the Dockerfile and its context."""
    from trimdock.context.findings import context_findings

    found: list[Finding] = []
    for label in dockerfiles:
        if label in ("-", STDIN_LABEL):
            continue  # the context analysis reads the Dockerfile from its path: stdin has none
        for finding in context_findings(analyses.of(label)):
            if finding.rule_id in lint_settings.ignore:
                continue
            override = lint_settings.severity.get(finding.rule_id)
            if override is not None:
                finding = replace(finding, severity=override)
            if finding.location is None:
                # Anchor context-wide findings at the Dockerfile that is built with this
                # context: code scanning (SARIF) shows only findings that have a location.
                finding = replace(finding, location=FileLocation(path=label, line=1))
            found.append(finding)
    return found


def _start_shellcheck(
    names: Sequence[str], lint_settings: LintSettings
) -> shellcheck.Pending | None:
    """Start the one ShellCheck run over the RUN bodies of all files before they are linted, so
    ShellCheck works while they are. Costs a second parse (about 1 ms a file). stdin can be
    read once: with `-` (None) the run starts after the lint, from the texts read by then."""
    if "-" in names:
        return None
    found: list[ShellScript] = []
    if lint_settings.shellcheck:
        for name in names:
            try:
                label, text = read_dockerfile(name)
            except DockerfileError:
                continue  # the lint reports it
            found.extend(shellcheck.scripts(parse(text, label)))
    return shellcheck.start(found)


def _shellcheck_findings(
    pending: shellcheck.Pending | None, sources: dict[str, str], lint_settings: LintSettings
) -> list[Finding]:
    """ShellCheck's findings (one note on stderr, none, when it cannot run)."""
    if pending is None:
        found = [
            s for label, text in sources.items() for s in shellcheck.scripts(parse(text, label))
        ]
        pending = shellcheck.start(found if lint_settings.shellcheck else [])
    try:
        findings, note = pending.findings(lint_settings)
    finally:
        pending.close()
    if note:
        sys.stderr.write(f"trimdock: {note}\n")
    return findings


def _settings(
    config: Path | None,
    ignore: Sequence[str],
    threshold: str | None,
    context: ContextFacts | None,
    no_shellcheck: bool = False,
) -> LintSettings:
    raw = settings(config)
    section = raw.section("lint", CONFIG_KEYS)
    base = settings_from_config(section, f"{raw.path or '.trimdock.toml'} [lint]")
    ignored = set(base.ignore)
    for item in ignore:
        for part in item.split(","):
            if not part.strip():
                continue
            if code := shellcheck_id(part):
                ignored.add(code)
                continue
            info = lookup(part)
            if info is not None:
                ignored.add(info.rule_id)
            elif not known_without_equivalent(part):
                raise UsageError(f"unknown rule id {part.strip()!r}", source="--ignore")
    failure = base.failure_threshold
    if threshold is not None:
        failure = parse_threshold(threshold, "--failure-threshold")
    options = base.options
    if context is not None:
        options = replace(options, context=context)
    enabled = base.shellcheck and not no_shellcheck
    return LintSettings(frozenset(ignored), base.severity, options, failure, enabled)


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
                help="Exit 1 when a finding is at least this severe: error, warning, info, "
                "style or none (default: warning, or [lint] failure-threshold).",
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
                f"at least {_MIN_FILES_PER_JOB * 2} files).",
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
        names = files or ["Dockerfile"]
        analyses = _ContextAnalyses(context) if context is not None else None
        facts = analyses.facts(names[0]) if analyses is not None else None
        lint_settings = _settings(config, ignore or [], failure_threshold, facts, no_shellcheck)
        if names.count("-") > 1:
            raise UsageError("stdin ('-') can be given only once")
        if fix or diff or unsafe_fixes:  # the same code as `trimdock fix`, without building
            from trimdock.cli.fix import fix_for_lint

            changed = fix_for_lint(names, lint_settings, unsafe=unsafe_fixes, diff=diff)
            if diff:
                raise typer.Exit(1 if changed else 0)
        # Parsing and linting allocate many small objects that die with each file: move the
        # import-time objects out of the collector's way and collect the young ones less often
        # (the default thresholds spent a fifth of a 500-file run in the collector).
        thresholds = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        findings: list[Finding] = []
        sources: dict[str, str] = {}
        checked: list[str] = []
        unreadable = False
        composed = [n for n in names if compose.is_compose_file(n)]  # Compose files: TD7xx
        names = [n for n in names if n not in composed]
        for name in composed:
            try:
                shown, content, issues = compose.check_file(name, lint_settings)
            except ComposeError as exc:  # as an unreadable Dockerfile: report it, check the rest
                sys.stderr.write(f"trimdock: {exc}\n")
                unreadable = True
                continue
            sources[shown], findings = content, [*findings, *issues]
            checked.append(shown)
        pending = _start_shellcheck(names, lint_settings)
        try:
            for label, text, found in _check_files(names, lint_settings, jobs):
                if text is None:
                    sys.stderr.write(f"trimdock: {label}\n")
                    unreadable = True
                    continue
                sources[label] = text
                checked.append(label)
                findings.extend(found)
            findings.extend(_shellcheck_findings(pending, sources, lint_settings))
        finally:  # `run()` may be called in-process (tests, embedding): leave the GC as it was
            gc.set_threshold(*thresholds)
            gc.unfreeze()
            if pending is not None:
                pending.close()
        if analyses is not None:
            findings.extend(_context_findings(analyses, checked, lint_settings))
        if fix or unsafe_fixes:  # what is left carries its fix (the unsafe ones, with --fix)
            from trimdock.cli.fix import with_fixes

            findings = with_fixes(findings, sources, lint_settings)
        if checked and (output is not None or not quiet):
            color = not no_color and output is None and sys.stdout.isatty()
            report = render_findings(
                findings,
                fmt,
                rules={**ALL_RULES, **shellcheck.rule_infos(findings)},
                sources=sources,
                tool_version=__version__,
                files=checked,
                color=color,
            )
            emit(report, output)
        if unreadable:
            raise typer.Exit(2)
        threshold = lint_settings.failure_threshold
        if threshold is not None and any(f.severity.at_least(threshold) for f in findings):
            raise typer.Exit(1)
