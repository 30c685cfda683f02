"""TD123: an archive extracted whole, then mostly removed in the same RUN.

`tar -xzf sdk.tgz -C /opt && cp /opt/sdk/bin/tool /bin/ && rm -rf /opt/sdk` writes the whole
tree to disk to keep one file; naming that member (`tar -xzf sdk.tgz -C /opt sdk/bin/tool`)
extracts only it. The analysis is shared with the fix provider (`narrowable`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from trimdock.dockerfile.shell import Command, Script
from trimdock.report.finding import Severity
from trimdock.rules.analysis import Analysis
from trimdock.rules.base import Hit, rule
from trimdock.rules.common import command_span

# Short tar options that take the next word as their value, in bundle order (`-xzf X`).
_SHORT_VALUE = frozenset("fCTXbHKLNVg")
_LONG_VALUE = frozenset({"--file", "--directory"})
# Options that change which paths land where: the member names would not be the kept paths.
_RENAMING = ("--strip-components", "--transform", "--xform", "--files-from", "--exclude", "-T")
_KEEPERS = ("cp", "mv", "install")
_LITERAL = re.compile(r"[\w./+@%:,=-]+")


@dataclass(frozen=True)
class Narrowable:
    """A full extraction into `directory` of which only `kept` (absolute paths) survive."""

    tar: Command
    directory: str
    kept: tuple[str, ...]
    # The archive file as written after `-f` (None when tar reads its standard input).
    archive: str | None = None

    def members(self) -> tuple[str, ...] | None:
        """The member names to extract, None when a kept path is not a literal."""
        if not all(_LITERAL.fullmatch(path) for path in self.kept):
            return None
        return tuple(posixpath.relpath(path, self.directory) for path in self.kept)


def _full_extraction(command: Command) -> tuple[str, str | None] | None:
    """The `-C` directory ('' for the working directory) and the `-f` archive (None: standard
    input) of a tar that extracts every member."""
    args = command.args
    if not args or command.has_flag(*_RENAMING):
        return None
    directory = ""
    archive: str | None = None
    pending: list[str] = []  # values owed to the option letters seen
    extracting = False
    for position, arg in enumerate(args):
        if pending:
            letter = pending.pop(0)
            if letter == "C":
                directory = arg
            elif letter == "f":
                archive = arg
            continue
        if arg.startswith("--"):
            name, _eq, value = arg.partition("=")
            extracting |= name in ("--extract", "--get")
            if name in _LONG_VALUE:
                if not _eq:
                    pending.append("C" if name == "--directory" else "f")
                elif name == "--directory":
                    directory = value
                else:
                    archive = value
            continue
        bundle = arg[1:] if arg.startswith("-") else arg if position == 0 else ""
        if not bundle or not bundle.isalpha():
            return None  # a member name (or something not understood): not a full extraction
        extracting |= "x" in bundle
        pending.extend(letter for letter in bundle if letter in _SHORT_VALUE)
    if not extracting or pending:
        return None
    return directory, (None if archive == "-" else archive)


def _under(path: str, root: str) -> bool:
    return path.startswith(root.rstrip("/") + "/")


def narrowable(script: Script, workdir: str) -> list[Narrowable]:
    """Full extractions of which a later `rm -r` removes the tree and a `cp`/`mv`/`install`
    between keeps some paths."""
    if any(c.name in ("cd", "pushd", "popd") for c in script.commands):
        return []
    found: list[Narrowable] = []
    commands = script.commands
    for index, command in enumerate(commands):
        if command.name != "tar" or command.via:
            continue
        extraction = _full_extraction(command)
        if extraction is None or "$" in extraction[0]:
            continue
        directory, archive = extraction
        target = posixpath.normpath(posixpath.join(workdir, directory or "."))
        kept: list[str] = []
        for later in commands[index + 1 :]:
            if later.name in _KEEPERS and len(later.operands) >= 2 and not later.has_flag("-t"):
                sources = [posixpath.normpath(posixpath.join(workdir, s)) for s in later.operands]
                kept.extend(s for s in sources[:-1] if _under(s, target))
                continue
            if later.name != "rm" or not later.has_flag("-r", "-R", "--recursive"):
                continue
            removed = [posixpath.normpath(posixpath.join(workdir, o)) for o in later.operands]
            tree = [r for r in removed if r != "/" and (r == target or _under(r, target))]
            if tree and kept and all(any(k == r or _under(k, r) for r in tree) for k in kept):
                found.append(Narrowable(command, target, tuple(kept), archive))
            break
    return found


@rule(
    "TD123", "Archive extracted whole to keep a few paths", Severity.INFO, "size",
    what="A RUN that extracts every member of an archive (`tar -x` without member names), copies "
    "or moves a few paths out of the extracted tree and then removes the tree.",
    why="The whole tree is written to disk and deleted again for the one file kept: naming the "
    "member extracts only it (practice: extract only what you need, in the same RUN).",
    example="RUN tar -xzf /tmp/sdk.tgz -C /tmp && cp /tmp/sdk/bin/tool /usr/local/bin/ \\\n"
    "    && rm -rf /tmp/sdk /tmp/sdk.tgz",
    instead="RUN tar -xzf /tmp/sdk.tgz -C /tmp sdk/bin/tool \\\n"
    "    && cp /tmp/sdk/bin/tool /usr/local/bin/ && rm -rf /tmp/sdk /tmp/sdk.tgz",
)  # fmt: skip
def extract_whole(analysis: Analysis) -> Iterator[Hit]:
    for facts in analysis.stages:
        for position, instruction in enumerate(facts.stage.instructions):
            if instruction.keyword != "RUN":
                continue
            script = analysis.script(instruction, facts.shell[position])
            for item in narrowable(script, facts.workdirs[position]):
                yield Hit(
                    command_span(item.tar, instruction),
                    f"the whole archive is extracted into {item.directory} to keep "
                    f"{', '.join(item.kept)}: name the members instead",
                    evidence=(("kept", list(item.kept)),),
                )
