"""TD123's fix: name the kept paths as members of the tar that extracted the whole archive.

Tars spell members as they were archived: `tar -C dir -cf x.tar .` stores `./sdk/bin/tool`,
`tar -cf x.tar sdk` stores `sdk/bin/tool`, and neither GNU nor busybox tar finds one spelling
under the other. So when the archive was copied from the build context its members are read
(`Target.members`) and the fix uses the archive's own spelling; when it cannot be read (it was
downloaded or made by the build) the fix tries both spellings in turn, which works with both
tars; when tar reads its standard input a second try has nothing to read, so no fix.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence

from trimdock.dockerfile.shell import SHELLS, Command
from trimdock.fix.providers.base import Site, Target, provides
from trimdock.report.finding import Applicability, Finding, Fix, FixEdit
from trimdock.rules.extract import Narrowable, narrowable

_UNCERTAIN = re.compile(r"[*?\[\]$\\{}]")


def spelled(wanted: Sequence[str], names: frozenset[str]) -> tuple[str, ...] | None:
    """Each wanted member as the archive spells it (plain or `./`), None when one is in
    neither spelling (the build would fail: no fix). Pure."""
    chosen: list[str] = []
    for member in wanted:
        for form in (member, f"./{member}"):
            if form in names or any(n.startswith(f"{form}/") for n in names):
                chosen.append(form)
                break
        else:
            return None
    return tuple(chosen)


def _names(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text) is not None


def _candidates(target: Target, site: Site, archive: str) -> Iterator[str]:
    """Context paths (relative) that the last COPY landing on `archive` may have copied; none
    when the archive comes from elsewhere or a RUN in between may have changed it."""
    name = posixpath.basename(archive)
    for position in range(site.position - 1, -1, -1):
        instruction = site.stage_instructions[position]
        if instruction.keyword == "RUN":
            if _names(instruction.rest + "".join(h.content for h in instruction.heredocs), name):
                return
            continue
        if instruction.keyword not in ("COPY", "ADD") or len(instruction.values) < 2:
            continue
        words = [target.analysis.word(v) for v in instruction.values]
        sources, dest = words[:-1], words[-1]
        workdir = site.facts.workdirs[position]
        base = posixpath.normpath(posixpath.join(workdir, dest))
        found: list[str] = []
        for source in sources:
            context_path = posixpath.normpath(source.lstrip("/"))
            if archive in (base, posixpath.join(base, posixpath.basename(context_path))):
                found.append(context_path)
            if archive.startswith(base.rstrip("/") + "/"):  # a folder's contents copied
                found.append(posixpath.join(context_path, posixpath.relpath(archive, base)))
        if not found:
            continue
        plain = (
            instruction.keyword == "COPY"  # ADD unpacks a local tar: no archive lands
            and instruction.flag("from") is None
            and not instruction.heredocs
            and not any("://" in w or _UNCERTAIN.search(w) for w in words)
        )
        if plain:
            yield from (p for p in found if p != "." and not p.startswith("../"))
        return


def _inspected(
    target: Target, site: Site, item: Narrowable, wanted: Sequence[str]
) -> tuple[str, ...] | None:
    """The members as the archive spells them, when it is a context file that can be read."""
    if item.archive is None or _UNCERTAIN.search(item.archive):
        return None
    workdir = site.facts.workdirs[site.position]
    archive = posixpath.normpath(posixpath.join(workdir, item.archive))
    for relative in _candidates(target, site, archive):
        names = target.members(relative)
        if names is not None:
            return spelled(wanted, names) or ()
    return None


def _both_spellings(target: Target, site: Site, command: Command) -> bool:
    """A second try can run: tar reads a file, in a POSIX shell, on its own."""
    shell = site.facts.shell[site.position]
    program = shell[0].rsplit("/", 1)[-1] if shell else ""
    return not (
        program not in SHELLS
        or command.via
        or command.in_pipeline
        or command.background
        or command.redirects
    )


@provides("TD123")
def extract_members(target: Target, finding: Finding) -> Fix | None:
    """Unsafe: the image loses whatever else the archive held outside the removed tree (which
    `fix --verify` reports); declined when a kept path is not a literal."""
    site = target.site_of(finding)
    command = target.command_at(site, finding) if site is not None else None
    if site is None or command is None:
        return None
    for item in narrowable(target.script(site), site.facts.workdirs[site.position]):
        if item.tar is not command:
            continue
        wanted = item.members()
        found = target.command_text(command)
        if wanted is None or found is None:
            return None
        start, _end, text = found
        # The command's span may run over a line continuation: end at its last word.
        trimmed = text.rstrip()
        while trimmed.endswith(target.escape):
            trimmed = trimmed[: -len(target.escape)].rstrip()
        members = _inspected(target, site, item, wanted)
        if members == ():
            return None  # the archive has no such member: the fixed build would fail
        if members is not None:
            return Fix(
                (FixEdit(start + len(trimmed), start + len(trimmed), _words(members)),),
                Applicability.UNSAFE,
                f"extract only {', '.join(members)} from the archive",
            )
        if item.archive is None or not _both_spellings(target, site, command):
            return None
        dotted = tuple(f"./{m}" for m in wanted)
        replacement = f"{{ {trimmed}{_words(wanted)} 2>/dev/null || {trimmed}{_words(dotted)}; }}"
        return Fix(
            (FixEdit(start, start + len(trimmed), replacement),),
            Applicability.UNSAFE,
            f"extract only {', '.join(wanted)} from the archive, spelled with or without ./",
        )
    return None


def _words(members: Sequence[str]) -> str:
    return "".join(f" {m}" for m in members)
