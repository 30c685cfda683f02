"""TD101's fix where it is sound: `COPY . DEST` replaced by one COPY per top-level entry of the
context (unsafe, as the `.dockerignore` deny-list it replaces).

Naming what the program reads is not possible from the Dockerfile (see `fix.dockerignore`), but
naming what the COPY takes today is: the context is known, and the legacy builder copies a
directory's CONTENTS, so `COPY src/ ./src/` puts exactly what `COPY . .` put under `./src/`, and
`COPY a b ./` the top-level files. The rewrite lists the entries the builder sends today minus
the deny-list's names (VCS data, secrets, caches...), so the image holds the same files except
the denied ones, and a file added to the context later is no longer copied unasked. Denied names
deeper in the tree still go to `.dockerignore`. Declined (the deny-list stays) when the COPY is
not plain (`--from`, a variable, a heredoc, JSON form, other flags), when the context has more
than `MAX_ENTRIES` top-level entries (the list would not be read) or an entry a COPY line cannot
name as it is (a symlink, which COPY follows; a name that needs quoting).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trimdock.context.service import ContextRequest, load_analysis
from trimdock.context.tree import Kind
from trimdock.context.walk import Builder
from trimdock.dockerfile import parse
from trimdock.dockerfile.model import Instruction
from trimdock.errors import TrimdockError
from trimdock.fix.dockerignore import IgnoreProposal, deny_patterns, extended
from trimdock.fix.text import LineIndex
from trimdock.report.finding import Applicability, Fix, FixEdit

MAX_ENTRIES = 8
# Flags a per-entry COPY keeps as they are; any other (`--from`, `--exclude`, `--parents`) and
# the rewrite is not known to copy the same.
_KEPT_FLAGS = frozenset({"chown", "chmod", "link"})
# Names a COPY line takes as they are (no quoting, no glob, no variable, no escape).
_PLAIN = re.compile(r"[A-Za-z0-9_.+@%,=][A-Za-z0-9_.+@%,=-]*")


@dataclass(frozen=True)
class Top:
    """A top-level entry of the context that `COPY .` takes."""

    name: str
    directory: bool


def plain_copy(instruction: Instruction) -> tuple[str, str] | None:
    """(flags as text, destination) of a plain `COPY . DEST`, None otherwise (pure)."""
    if (
        instruction.keyword != "COPY"
        or instruction.json
        or instruction.heredocs
        or len(instruction.values) != 2
        or instruction.values[0] not in (".", "./")
        or "$" in instruction.rest
        or any(f.name not in _KEPT_FLAGS for f in instruction.flags)
    ):
        return None
    flags = "".join(
        f"--{f.name} " if f.value is None else f"--{f.name}={f.value} " for f in instruction.flags
    )
    return flags, instruction.values[1]


def explicit_lines(flags: str, dest: str, entries: Sequence[Top]) -> str | None:
    """The COPY lines that take `entries` into `dest` as `COPY . dest` did; None when the
    list is empty, too long or holds a name a COPY line cannot take as it is (pure)."""
    if not entries or len(entries) > MAX_ENTRIES:
        return None
    if any(not _PLAIN.fullmatch(e.name) or e.name in (".", "..") for e in entries):
        return None
    if dest in (".", "./"):
        into = "./"
    elif dest.strip("/") == "":
        into = "/"
    else:
        into = dest.rstrip("/") + "/"
    ordered = sorted(entries, key=lambda e: e.name)
    lines = [f"COPY {flags}{e.name}/ {into}{e.name}/" for e in ordered if e.directory]
    files = [e.name for e in ordered if not e.directory]
    if files:
        lines.append(f"COPY {flags}{' '.join(files)} {into}")
    return "\n".join(lines)


@dataclass(frozen=True)
class ExplicitProposal:
    fix: Fix
    ignore: IgnoreProposal | None  # denied names below the top level, when there are some


def _denied(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p.removeprefix("**/")) for p in patterns)


def propose_explicit(
    context: Path, dockerfile: Path, text: str, path: str, lines: tuple[int, int]
) -> ExplicitProposal | None:
    """The rewrite of the whole-context COPY on `lines` of `text`, when it is sound."""
    instruction = next(
        (
            i
            for stage in parse(text, path).stages
            for i in stage.instructions
            if i.span.line == lines[0]
        ),
        None,
    )
    copy = plain_copy(instruction) if instruction is not None else None
    if instruction is None or copy is None:
        return None
    try:
        analysis = load_analysis(
            ContextRequest(context=context, dockerfile=dockerfile, builder=Builder.LEGACY)
        )
    except TrimdockError:
        return None
    visible = [
        entry
        for entry, seen in zip(analysis.tree.entries, analysis.selection.visible, strict=False)
        if seen and entry.path
    ]
    patterns = deny_patterns({e.path.rsplit("/", 1)[-1] for e in visible})
    top: list[Top] = []
    for entry in visible:
        if entry.parent != -1 or _denied(entry.path, patterns):
            continue
        if entry.kind not in (Kind.FILE, Kind.DIR):
            return None  # a symlink COPY would follow, a device: not named as they are
        top.append(Top(entry.path, entry.kind is Kind.DIR))
    rewritten = explicit_lines(copy[0], copy[1], top)
    if rewritten is None:
        return None
    nested = deny_patterns(
        {
            e.path.rsplit("/", 1)[-1]
            for e in visible
            if e.parent != -1 and not any(_denied(part, patterns) for part in e.path.split("/")[:1])
        }
    )
    ignore = _ignore(analysis.ignore.path, context, nested) if nested else None
    if nested and ignore is None:
        return None  # the nested junk could not be kept out: the deny-list says why
    start, end = LineIndex(text).span(instruction.span)
    names = ", ".join(p.removeprefix("**/") for p in patterns)
    fix = Fix(
        (FixEdit(start, end, rewritten),),
        Applicability.UNSAFE,
        f"replace the whole-context COPY on line {lines[0]} by its {len(top)} top-level "
        f"entries" + (f", without {names}" if names else ""),
        tuple(f"*/{p.removeprefix('**/')}" for p in patterns),
    )
    return ExplicitProposal(fix, ignore)


def _ignore(found: str | None, context: Path, patterns: tuple[str, ...]) -> IgnoreProposal | None:
    target = Path(found) if found else context / ".dockerignore"
    try:
        original = target.read_text(encoding="utf-8") if target.exists() else None
    except OSError:
        return None
    return IgnoreProposal(target, original, extended(original, patterns), patterns)
