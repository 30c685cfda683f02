"""What a fix provider sees and the text helpers they share.

A provider computes the fix of one rule from the parsed Dockerfile and the finding, so rules
stay pure checks and fixes live in one place (`trimdock.fix.providers`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from trimdock.dockerfile.model import Dockerfile, Instruction
from trimdock.dockerfile.shell import Command, Script
from trimdock.fix.text import LineIndex
from trimdock.report.finding import FileLocation, Finding, Fix, FixEdit
from trimdock.rules.analysis import Analysis, StageFacts

# The member names of an archive in the build context (a path relative to it); None when there
# is no context, no such file, or it is not a tar the reader knows. The I/O is the caller's
# (`trimdock.fix.archive`): providers stay pure.
MemberReader = Callable[[str], frozenset[str] | None]


def no_context(_relative: str) -> frozenset[str] | None:
    return None


@dataclass(frozen=True)
class Site:
    """An instruction of a stage (never an ONBUILD trigger: its fix is not ours to guess)."""

    facts: StageFacts
    position: int
    instruction: Instruction

    @property
    def stage_instructions(self) -> tuple[Instruction, ...]:
        return self.facts.stage.instructions


class Target:
    """The parsed file a fix is computed on, with offsets and per-instruction look-ups."""

    def __init__(
        self, dockerfile: Dockerfile, analysis: Analysis, members: MemberReader = no_context
    ) -> None:
        self.dockerfile = dockerfile
        self.analysis = analysis
        self.members = members
        self.index = LineIndex(dockerfile.text)
        self.text = dockerfile.text

    @property
    def escape(self) -> str:
        return self.dockerfile.escape

    def site(self, line: int) -> Site | None:
        """The stage instruction whose lines include `line`."""
        for facts in self.analysis.stages:
            for position, instruction in enumerate(facts.stage.instructions):
                if instruction.span.line <= line <= instruction.span.end_line:
                    if instruction.keyword == "ONBUILD":
                        return None
                    return Site(facts, position, instruction)
        return None

    def site_of(self, finding: Finding) -> Site | None:
        location = finding.location
        return self.site(location.line) if isinstance(location, FileLocation) else None

    def script(self, site: Site) -> Script:
        return self.analysis.script(site.instruction, site.facts.shell[site.position])

    def command_at(self, site: Site, finding: Finding) -> Command | None:
        """The command of the RUN the finding points at (rules report the command's span)."""
        location = finding.location
        if not isinstance(location, FileLocation):
            return None
        for command in self.script(site).commands:
            span = command.span
            if span is not None and (span.line, span.column) == (location.line, location.column):
                return command
        return None

    def command_text(self, command: Command) -> tuple[int, int, str] | None:
        if command.span is None:
            return None
        start, end = self.index.span(command.span)
        return start, end, self.text[start:end]


Provider = Callable[[Target, Finding], Fix | None]
PROVIDERS: dict[str, Provider] = {}


def provides(*rule_ids: str) -> Callable[[Provider], Provider]:
    def register(provider: Provider) -> Provider:
        for rule_id in rule_ids:
            PROVIDERS[rule_id] = provider
        return provider

    return register


# A `#` that starts a word comments out the rest of the logical line: text appended after it
# would be dropped by the shell (the continuation lines are joined before the shell runs).
_COMMENT_RE = re.compile(r"(^|\s)#")
_OPEN_END = ("&&", "||", "|", ";", "&", "(", "{")


def shell_run(instruction: Instruction) -> bool:
    """A shell-form RUN whose text a fix can extend at its end: no heredoc, no JSON form, no
    comment inside the command text, no operator left open at the end."""
    if instruction.keyword != "RUN" or instruction.json or instruction.heredocs:
        return False
    rest = instruction.rest.rstrip()
    if not rest or instruction.rest_span is None or _COMMENT_RE.search(rest):
        return False
    return not rest.endswith(_OPEN_END)


def append_command(target: Target, instruction: Instruction, command: str) -> FixEdit | None:
    """An edit adding `&& command` at the end of a RUN, in the style of its lines: a
    continuation line indented like the last one for a multi-line RUN, inline otherwise."""
    if not shell_run(instruction) or instruction.rest_span is None:
        return None
    span = instruction.rest_span
    _start, end = target.index.span(span)
    if span.end_line == span.line:
        return FixEdit(end, end, f" && {command}")
    last = target.index.line_text(span.end_line)
    indent = last[: len(last) - len(last.lstrip(" \t"))] or "    "
    return FixEdit(end, end, f" {target.escape}\n{indent}&& {command}")


def insert_option(target: Target, command: Command, after: str, option: str) -> FixEdit | None:
    """An edit adding ` option` after the word `after` (the sub-command) of a command."""
    if command.via or command.span is None:
        return None
    found = target.command_text(command)
    if found is None:
        return None
    start, _end, text = found
    name_end = len(command.argv[0]) if text.startswith(command.argv[0]) else 0
    match = re.compile(rf"(?<![\w.-]){re.escape(after)}(?![\w.-])").search(text, name_end)
    if match is None:
        return None
    return FixEdit(start + match.end(), start + match.end(), f" {option}")


def delete_lines(target: Target, first: int, last: int) -> FixEdit:
    """An edit removing whole lines `first`..`last` with their newline."""
    return FixEdit(target.index.line_start(first), target.index.after_line(last), "")
