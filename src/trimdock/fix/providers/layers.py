"""Fixes that move work between layers: consecutive RUNs merged, a later delete moved into the
RUN that created the files, a volatile COPY moved after the expensive step that does not read
it."""

from __future__ import annotations

import re

from trimdock.dockerfile.model import Instruction
from trimdock.fix.providers.base import (
    Site,
    Target,
    append_command,
    delete_lines,
    provides,
    shell_run,
)
from trimdock.report.finding import Applicability, Finding, Fix, FixEdit

# Commands whose effect on the shell (directory, variables, options) would reach the command
# merged after them: such RUNs are separate on purpose.
_SHELL_STATE = frozenset(
    {
        "cd", "export", "set", "source", ".", "umask", "ulimit", "shopt", "alias", "unset",
        "pushd", "popd", "trap", "exec", "exit", "eval", "declare", "typeset", "readonly",
    }
)  # fmt: skip


def _indent(target: Target, instruction: Instruction) -> str:
    span = instruction.rest_span
    if span is None or span.end_line == span.line:
        return "    "
    last = target.index.line_text(span.end_line)
    return last[: len(last) - len(last.lstrip(" \t"))] or "    "


@provides("TD116")
def merge_runs(target: Target, finding: Finding) -> Fix | None:
    """`RUN a` + `RUN b` -> `RUN a && b` (comments between them kept as comment lines inside
    the continuation, where BuildKit skips them)."""
    site = target.site_of(finding)
    if site is None or site.position == 0:
        return None
    previous = Site(site.facts, site.position - 1, site.stage_instructions[site.position - 1])
    first, second = previous.instruction, site.instruction
    if not (shell_run(first) and shell_run(second)):
        return None
    if [(f.name, f.value) for f in first.flags] != [(f.name, f.value) for f in second.flags]:
        return None
    if any(c.name in _SHELL_STATE for c in target.script(previous).commands):
        return None
    assert first.rest_span is not None and second.rest_span is not None
    _s, end = target.index.span(first.rest_span)
    start, _e = target.index.span(second.rest_span)
    between = target.text[end:start].split("\n")[1:-1]
    comments = "".join(f"{line}\n" for line in between if line.lstrip().startswith("#"))
    replacement = f" {target.escape}\n{comments}{_indent(target, first)}&& "
    return Fix(
        (FixEdit(end, start, replacement),),
        Applicability.SAFE,
        f"merge the RUN on line {second.line} into the RUN on line {first.line}",
    )


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text) is not None


def _run_text(instruction: Instruction) -> str:
    return instruction.rest + "".join(h.content for h in instruction.heredocs)


def _site_at(target: Target, line: object) -> Site | None:
    return target.site(line) if isinstance(line, int) else None


@provides("TD102")
def move_delete(target: Target, finding: Finding) -> Fix | None:
    """`RUN tar -x ...` ... `RUN rm -rf /opt/x/docs` -> the `rm` at the end of the RUN that
    created the files, so their bytes never ship. Safe when only non-RUN instructions stand
    between the two; unsafe when a RUN between might still read what is deleted."""
    evidence = dict(finding.evidence)
    if evidence.get("created_by") == "copy":
        return None
    deleting = target.site_of(finding)
    creating = _site_at(target, evidence.get("created_line"))
    deleted = evidence.get("deleted")
    if deleting is None or creating is None or not isinstance(deleted, str):
        return None
    if creating.facts is not deleting.facts or creating.position >= deleting.position:
        return None
    if creating.facts.workdirs[creating.position] != deleting.facts.workdirs[deleting.position]:
        return None
    script = target.script(deleting)
    remove = target.command_at(deleting, finding)
    if remove is None or len(script.commands) != 1 or not shell_run(deleting.instruction):
        return None
    found = target.command_text(remove)
    if found is None:
        return None
    name = deleted.rstrip("/").rsplit("/", 1)[-1] or deleted
    between = deleting.stage_instructions[creating.position + 1 : deleting.position]
    runs = False
    for instruction in between:
        if instruction.keyword in ("RUN", "ONBUILD"):
            runs = True
            if _mentions(_run_text(instruction), name):
                return None
        elif instruction.keyword in ("COPY", "ADD", "WORKDIR", "USER", "SHELL"):
            return None  # it could write under the deleted path or change where `rm` runs
    edit = append_command(target, creating.instruction, found[2])
    if edit is None:
        return None
    removal = delete_lines(
        target, deleting.instruction.span.line, deleting.instruction.span.end_line
    )
    return Fix(
        (edit, removal),
        Applicability.UNSAFE if runs else Applicability.SAFE,
        f"move `{found[2]}` (line {deleting.instruction.line}) into the RUN on line "
        f"{creating.instruction.line} that created {deleted}",
    )


def _block_start(target: Target, instruction: Instruction) -> int:
    """The first line of the instruction with the comment lines directly above it."""
    line = instruction.span.line
    while line > 1 and target.index.line_text(line - 1).lstrip().startswith("#"):
        if any(d.span.line == line - 1 for d in target.dockerfile.directives):
            break
        line -= 1
    return line


def _copy_names(target: Target, instruction: Instruction) -> list[str]:
    values = [target.analysis.word(v) for v in instruction.values]
    return [v.rstrip("/").rsplit("/", 1)[-1] for v in values if v.rstrip("/") not in ("", ".", "*")]


@provides("TD202")
def move_volatile_copy(target: Target, finding: Finding) -> Fix | None:
    """`COPY app.conf ...` before an expensive RUN that does not read it -> after that RUN, so
    editing the file no longer re-runs it. Unsafe: instructions are reordered."""
    evidence = dict(finding.evidence)
    copy = target.site_of(finding)
    expensive = _site_at(target, evidence.get("expensive_line"))
    if copy is None or expensive is None or copy.facts is not expensive.facts:
        return None
    instruction = copy.instruction
    if instruction.keyword not in ("COPY", "ADD") or instruction.heredocs:
        return None
    text = target.text[slice(*target.index.span(instruction.span))]
    names = _copy_names(target, instruction)
    dest = instruction.values[-1] if instruction.values else ""
    for between in copy.stage_instructions[copy.position + 1 : expensive.position + 1]:
        keyword = between.keyword
        if keyword in ("WORKDIR", "ONBUILD", "SHELL"):
            return None
        if keyword in ("ARG", "ENV") and "$" in text:
            return None
        if keyword == "RUN" and any(_mentions(_run_text(between), n) for n in names):
            return None
        if keyword in ("COPY", "ADD") and between.values[-1:] == (dest,):
            return None
    # After the RUN and the copies that already follow it, so moved copies keep their order.
    anchor = expensive.position
    following = copy.stage_instructions
    while anchor + 1 < len(following) and following[anchor + 1].keyword in ("COPY", "ADD"):
        if following[anchor + 1].values[-1:] == (dest,):
            return None
        anchor += 1
    first = _block_start(target, instruction)
    block = target.text[
        target.index.line_start(first) : target.index.after_line(instruction.span.end_line)
    ]
    if not block.endswith("\n"):
        block += "\n"
    at = target.index.after_line(following[anchor].span.end_line)
    if at == len(target.text) and not target.text.endswith("\n"):
        block = "\n" + block.rstrip("\n")
    return Fix(
        (delete_lines(target, first, instruction.span.end_line), FixEdit(at, at, block)),
        Applicability.UNSAFE,
        f"move the COPY on line {instruction.line} after the RUN on line "
        f"{expensive.instruction.line}, which does not read it",
    )


_ARCHIVE_MESSAGE = re.compile(r"^downloaded archive (/\S+) is not removed in the same RUN$")


@provides("TD114")
def remove_archive(target: Target, finding: Finding) -> Fix | None:
    """Download, extract and delete in one RUN: `&& rm -f ARCHIVE` at its end. Safe (the
    archive is what the fix removes) unless anything later names the archive."""
    match = _ARCHIVE_MESSAGE.match(finding.message)
    site = target.site_of(finding)
    if match is None or site is None:
        return None
    archive = match.group(1)
    name = archive.rsplit("/", 1)[-1]
    later = target.text[target.index.after_line(site.instruction.span.end_line) :]
    if _mentions(later, name) or not re.fullmatch(r"[\w./+-]+", archive):
        return None
    edit = append_command(target, site.instruction, f"rm -f {archive}")
    if edit is None:
        return None
    return Fix(
        (edit,),
        Applicability.SAFE,
        f"remove the downloaded {archive} in the RUN that used it",
        (archive,),
    )
