"""`trimdock fix`: rewrite a Dockerfile from its findings' fixes, optionally proven by building
the old and the new file (`--verify`). `lint --fix/--diff` uses the same code."""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from trimdock.cli.common import ConfigOption, settings
from trimdock.dockerfile import parse
from trimdock.dockerfile.source import read_dockerfile
from trimdock.errors import UsageError
from trimdock.fix.apply import AppliedFix, FixOutcome, attach_fixes, edit_lines, fix_text
from trimdock.fix.archive import member_reader
from trimdock.fix.dockerignore import as_fix, propose, whole_context_copy
from trimdock.fix.explicit import propose_explicit
from trimdock.fix.render import document, retry_note, summary, table, unified_diff, verdict
from trimdock.fix.text import LineIndex, apply_edits
from trimdock.fix.verdict import Verdict
from trimdock.report.finding import FileLocation, Finding
from trimdock.report.output import to_json_text, write_atomically
from trimdock.rules.engine import CONFIG_KEYS, LintSettings, settings_from_config


class FixFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def fix_file(
    name: str, lint_settings: LintSettings, *, unsafe: bool, context: Path | None = None
) -> FixOutcome:
    """The fixes of one file; `context` (default: the file's folder) lets fixes read the
    archives it holds."""
    if name == "-":
        raise UsageError("fixes rewrite a file: give its path, not stdin ('-')")
    label, text = read_dockerfile(name)
    directory = context if context is not None else Path(name).parent
    return fix_text(text, label, lint_settings, unsafe=unsafe, members=member_reader(directory))


def fix_for_lint(
    names: Sequence[str], lint_settings: LintSettings, *, unsafe: bool, diff: bool
) -> bool:
    """`lint --fix` / `--diff`: apply (or show) the fixes of each file, without building.
    True when some file changed (or would)."""
    changed = False
    for name in names:
        outcome = fix_file(name, lint_settings, unsafe=unsafe)
        changed |= outcome.changed
        if diff:
            sys.stdout.write(unified_diff(outcome))
        elif outcome.changed:
            write_atomically(Path(name), outcome.text)
        if outcome.applied or outcome.unsafe_available:
            sys.stderr.write(summary(outcome, written=not diff))
    return changed


def with_ignore(
    outcome: FixOutcome,
    context: Path,
    dockerfile: Path,
    lint_settings: LintSettings,
    *,
    unsafe: bool,
    exclude: Collection[str] = (),
) -> FixOutcome:
    """TD101's fix joined to the Dockerfile's fixes (unsafe; it needs the build context, which
    only `trimdock fix` has): the whole-context COPY replaced by the entries it takes where that
    is sound, `.dockerignore` additions otherwise. A fix whose key is in `exclude` was rejected
    by a verification: the next way is tried."""
    lines = whole_context_copy(outcome.text, outcome.path, lint_settings)
    if lines is None:
        return outcome
    explicit = propose_explicit(context, dockerfile, outcome.text, outcome.path, lines)
    if explicit is not None:
        # After the rounds, on their text: a round of its own.
        applied = AppliedFix(
            "TD101",
            outcome.rounds + 1,
            lines[0],
            explicit.fix,
            edit_lines(LineIndex(outcome.text), explicit.fix),
        )
        if applied.key not in exclude:
            if not unsafe:
                return replace(outcome, unsafe_available=outcome.unsafe_available + 1)
            return replace(
                outcome,
                text=apply_edits(outcome.text, explicit.fix.edits),
                applied=(*outcome.applied, applied),
                rounds=applied.round,
                ignore=explicit.ignore,
            )
    proposal = propose(context, dockerfile)
    if proposal is None:
        return outcome
    if not unsafe:
        return replace(outcome, unsafe_available=outcome.unsafe_available + 1)
    deny = as_fix(proposal, lines, max(outcome.rounds, 1))
    if deny.key in exclude:
        return outcome
    return replace(outcome, applied=(*outcome.applied, deny), ignore=proposal)


def with_fixes(
    findings: Sequence[Finding], sources: Mapping[str, str], lint_settings: LintSettings
) -> list[Finding]:
    """`findings` with the fix each one has (`autofix`), file by file."""
    by_file: dict[str, list[int]] = {}
    for index, finding in enumerate(findings):
        location = finding.location
        if isinstance(location, FileLocation) and location.path in sources:
            by_file.setdefault(location.path, []).append(index)
    result = list(findings)
    for label, indexes in by_file.items():
        attached = attach_fixes(
            parse(sources[label], label), [result[i] for i in indexes], lint_settings
        )
        for index, finding in zip(indexes, attached, strict=True):
            result[index] = finding
    return result


def _tag(outcome: FixOutcome) -> str:
    stem = re.sub(r"[^a-z0-9._-]+", "-", Path(outcome.path).name.lower()).strip(".-_") or "df"
    digest = hashlib.sha256((outcome.original + "\0" + outcome.text).encode()).hexdigest()[:12]
    return f"trimdock-fix/{stem}:{digest}"


def register(app: typer.Typer) -> None:
    @app.command("fix")
    def fix_command(
        file: Annotated[str, typer.Argument(help="The Dockerfile to rewrite.")] = "Dockerfile",
        context: Annotated[
            Path | None,
            typer.Option(
                "--context", help="Build context for --verify (default: the Dockerfile's folder)."
            ),
        ] = None,
        unsafe_fixes: Annotated[
            bool,
            typer.Option(
                "--unsafe-fixes",
                help="Also apply fixes that change what is installed, copied or run.",
            ),
        ] = False,
        diff: Annotated[
            bool, typer.Option("--diff", help="Print a unified diff instead of writing the file.")
        ] = False,
        verify: Annotated[
            bool | None,
            typer.Option(
                "--verify/--no-verify",
                help="Build the original and the fixed file and compare them; write only if "
                "the fixed image builds and lost nothing unexpected (default: on, off with "
                "--diff).",
            ),
        ] = None,
        keep_images: Annotated[
            bool,
            typer.Option(
                "--keep-images", help="Keep the images --verify built (default: removed)."
            ),
        ] = False,
        output_format: Annotated[
            FixFormat,
            typer.Option("--format", "-F", help="Report format.", case_sensitive=False),
        ] = FixFormat.TEXT,
        config: ConfigOption = None,
    ) -> None:
        """Rewrite a Dockerfile to remove its findings, and prove the gain by building both."""
        raw = settings(config)
        section = raw.section("lint", CONFIG_KEYS)
        lint_settings = settings_from_config(section, f"{raw.path or '.trimdock.toml'} [lint]")
        directory = context if context is not None else Path(file).parent
        # The file is read first: a missing file is the error to report, not its folder.
        outcome = fix_file(
            file,
            lint_settings,
            unsafe=unsafe_fixes,
            context=directory if directory.is_dir() else None,
        )
        if not directory.is_dir():
            raise UsageError("build context is not a directory", source=str(directory))
        outcome = with_ignore(outcome, directory, Path(file), lint_settings, unsafe=unsafe_fixes)
        as_json = output_format is FixFormat.JSON
        if diff and not as_json:
            sys.stdout.write(unified_diff(outcome))
        report = sys.stderr if diff else sys.stdout
        building = verify if verify is not None else not diff
        verdict_: Verdict | None = None
        if building and outcome.changed:
            from trimdock.fix.verdict import decide

            label, text = read_dockerfile(file)

            def refix(exclude: frozenset[str]) -> FixOutcome:
                again = fix_text(
                    text,
                    label,
                    lint_settings,
                    unsafe=unsafe_fixes,
                    exclude=exclude,
                    members=member_reader(directory),
                )
                return with_ignore(
                    again,
                    directory,
                    Path(file),
                    lint_settings,
                    unsafe=unsafe_fixes,
                    exclude=exclude,
                )

            verdict_ = decide(directory, outcome, refix, tag=_tag(outcome), keep_images=keep_images)
            outcome = verdict_.outcome
            if not as_json:
                if verdict_.first is not None:
                    report.write(table(verdict_.first))
                    report.write(verdict(verdict_.first))
                    report.write(retry_note(verdict_))
                report.write(table(verdict_.verification))
                report.write(verdict(verdict_.verification))
        accepted = verdict_ is None or verdict_.accepted
        written = accepted and outcome.changed and not diff
        if written:
            if outcome.text != outcome.original:
                write_atomically(Path(file), outcome.text)
            if outcome.ignore is not None:
                write_atomically(outcome.ignore.path, outcome.ignore.text)
        if as_json:
            sys.stdout.write(
                to_json_text(
                    document(
                        outcome,
                        written=written,
                        rejected=verdict_.rejected if verdict_ else (),
                        verification=verdict_.verification if verdict_ else None,
                        first=verdict_.first if verdict_ else None,
                        diff=unified_diff(outcome) if diff else None,
                    )
                )
            )
        if not accepted:
            if not as_json:
                report.write(f"{outcome.path} left as it was.\n")
            raise typer.Exit(1)
        if not as_json:
            report.write(summary(outcome, written=not diff))
