"""The lint service: options in, findings out (`trimdock lint` only parses options and renders).

It reads the Dockerfiles (several processes for long lists), runs the rule catalogue, the one
batched ShellCheck run over every RUN body and, with a build context, the context analyses
(TD101 evidence and the TD5xx findings) — the same shape as `context/service.py`.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from trimdock.config import RawConfig
from trimdock.dockerfile import parse
from trimdock.dockerfile.model import Dockerfile
from trimdock.dockerfile.source import STDIN_LABEL, read_dockerfile
from trimdock.errors import ComposeError, DockerfileError, UsageError
from trimdock.report.finding import FileLocation, Finding
from trimdock.report.threshold import choose_threshold, fails
from trimdock.rules import shellcheck
from trimdock.rules.analysis import ContextFacts
from trimdock.rules.engine import CONFIG_KEYS, LintSettings, lint, settings_from_config
from trimdock.rules.peers import known_without_equivalent
from trimdock.rules.registry import lookup
from trimdock.rules.shellcheck import ShellScript, shellcheck_id
from trimdock.runtime.compose import service as compose

if TYPE_CHECKING:  # the context analyzer is imported only when a context is given
    from trimdock.context.analysis import Analysis

MIN_FILES_PER_JOB = 8
_MAX_AUTO_JOBS = 8


@dataclass(frozen=True)
class LintRequest:
    files: tuple[str, ...]  # paths; "-" reads stdin
    settings: LintSettings = field(default_factory=LintSettings)
    context: Path | None = None  # build context: TD101 evidence and TD5xx findings
    jobs: int = 0  # 0: automatic


@dataclass(frozen=True)
class LintResult:
    findings: tuple[Finding, ...]
    sources: Mapping[str, str]  # label -> text of every file read
    checked: tuple[str, ...]  # labels of the files read, in the order given
    unreadable: tuple[str, ...]  # one message per file that could not be read
    notes: tuple[str, ...]  # for stderr (ShellCheck could not run, ...)
    settings: LintSettings

    @property
    def failed(self) -> bool:
        """A finding reaches the failure threshold (exit 1)."""
        return fails(self.findings, self.settings.failure_threshold)


def settings_for(
    raw: RawConfig,
    ignore: Sequence[str] = (),
    threshold: str | None = None,
    no_shellcheck: bool = False,
) -> LintSettings:
    """The `[lint]` config section with the command-line options laid over it."""
    section = raw.section("lint", CONFIG_KEYS)
    where = f"{raw.path or '.trimdock.toml'} [lint]"
    base = settings_from_config(section, where)
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
        failure = choose_threshold(threshold)
    enabled = base.shellcheck and not no_shellcheck
    return LintSettings(frozenset(ignored), base.severity, base.options, failure, enabled)


def run_lint(request: LintRequest) -> LintResult:
    names = list(request.files) or ["Dockerfile"]
    if names.count("-") > 1:
        raise UsageError("stdin ('-') can be given only once")
    composed = [name for name in names if compose.is_compose_file(name)]  # TD7xx, not TD1xx..
    names = [name for name in names if name not in composed]
    analyses = _ContextAnalyses(request.context) if request.context is not None else None
    lint_settings = request.settings
    if analyses is not None:
        first = names[0] if names else "Dockerfile"
        options = replace(lint_settings.options, context=analyses.facts(first))
        lint_settings = replace(lint_settings, options=options)
    # Parsing and linting allocate many small objects that die with each file: move the
    # import-time objects out of the collector's way and collect the young ones less often
    # (the default thresholds spent a fifth of a 500-file run in the collector).
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    findings: list[Finding] = []
    sources: dict[str, str] = {}
    checked: list[str] = []
    unreadable: list[str] = []
    notes: list[str] = []
    for name in composed:
        try:
            shown, content, issues = compose.check_file(name, lint_settings)
        except ComposeError as exc:  # as an unreadable Dockerfile: report it, check the rest
            unreadable.append(str(exc))
            continue
        sources[shown] = content
        checked.append(shown)
        findings.extend(issues)
    pending = _start_shellcheck(names, lint_settings)
    try:
        busy = pending.processes if pending is not None else 0
        for label, text, found in _check_files(names, lint_settings, request.jobs, busy):
            if text is None:
                unreadable.append(label)
                continue
            sources[label] = text
            checked.append(label)
            findings.extend(found)
        found_sc, note = _shellcheck_findings(pending, sources, lint_settings)
        findings.extend(found_sc)
        if note:
            notes.append(note)
    finally:  # the service may run in-process (tests, embedding): leave the GC as it was
        _parsed.clear()
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        if pending is not None:
            pending.close()
    if analyses is not None:
        findings.extend(_context_findings(analyses, checked, lint_settings))
    return LintResult(
        tuple(findings), sources, tuple(checked), tuple(unreadable), tuple(notes), lint_settings
    )


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


_Checked = tuple[str, str | None, list[Finding]]  # (label, text, findings); text None: error
_worker_settings = LintSettings()


# Files read and parsed before the lint, for ShellCheck: the lint takes them from here instead
# of reading and parsing them again (the worker processes inherit it when they fork).
_parsed: dict[str, tuple[str, str, Dockerfile]] = {}


def _check_file(name: str, lint_settings: LintSettings | None = None) -> _Checked:
    known = _parsed.get(name)
    if known is not None:
        label, text, dockerfile = known
    else:
        try:
            label, text = read_dockerfile(name)
        except DockerfileError as exc:
            return str(exc), None, []
        dockerfile = parse(text, label)
    return label, text, lint(dockerfile, lint_settings or _worker_settings)


def _init_worker(lint_settings: LintSettings) -> None:
    global _worker_settings
    _worker_settings = lint_settings


def job_count(requested: int, files: int, busy: int = 0) -> int:
    """Processes for the lint: as requested, else one per CPU that the `busy` ShellCheck
    processes leave free (a CPU shared by two processes only adds their switching)."""
    if requested:
        return max(1, min(requested, files))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cpus = os.cpu_count() or 1
    return max(1, min(cpus - busy, _MAX_AUTO_JOBS, files // MIN_FILES_PER_JOB))


def _check_files(
    names: list[str], lint_settings: LintSettings, jobs: int, busy: int = 0
) -> Iterator[_Checked]:
    """Each file's result, in the order given; several processes share a long list of files.

    Files are independent, so a process pool (forked after the imports, which it shares) gives
    the same results in the same order; stdin is read here, so its file stays in this process.
    """
    count = job_count(jobs, len(names), busy)
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
            dockerfile = parse(text, label)
            _parsed[name] = (label, text, dockerfile)
            found.extend(shellcheck.scripts(dockerfile))
    return shellcheck.start(found)


def _shellcheck_findings(
    pending: shellcheck.Pending | None, sources: dict[str, str], lint_settings: LintSettings
) -> tuple[list[Finding], str | None]:
    """ShellCheck's findings, and a note when it cannot run."""
    if pending is None:
        found = [
            s for label, text in sources.items() for s in shellcheck.scripts(parse(text, label))
        ]
        pending = shellcheck.start(found if lint_settings.shellcheck else [])
    try:
        return pending.findings(lint_settings)
    finally:
        pending.close()
