"""TD122: `npm install` where a lock file is known to be in the working directory.

The rule fires only when the Dockerfile text proves the lock is there: a COPY/ADD names
`package-lock.json` (or `npm-shrinkwrap.json`) and puts it in the RUN's working directory, or
copies a directory (the whole context included) that holds a lock file another COPY of the file
names. Globs (`COPY package*.json ./`), variables, `COPY --from` and destinations that may or
may not be directories are not certain, so they stay quiet.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from trimdock.dockerfile.model import Instruction
from trimdock.report.finding import Severity
from trimdock.rules.analysis import Analysis
from trimdock.rules.base import Hit, rule
from trimdock.rules.common import command_span, installs

LOCK_NAMES = ("package-lock.json", "npm-shrinkwrap.json")
_UNCERTAIN = re.compile(r"[*?\[\]$\\{}]")
# Options under which `npm install` does not install the project's lock into the directory.
_NOT_THE_LOCK = (
    "-g",
    "--global",
    "--prefix",
    "--package-lock-only",
    "--no-package-lock",
    "--package-lock",
    "-w",
    "--workspace",
    "--workspaces",
)


def _literal_sources(analysis: Analysis, instruction: Instruction) -> tuple[list[str], str] | None:
    """The sources and destination of a COPY/ADD from the build context, None otherwise."""
    if (
        instruction.keyword not in ("COPY", "ADD")
        or instruction.json
        or instruction.flag("from") is not None
        or instruction.heredocs
        or len(instruction.values) < 2
    ):
        return None
    words = [analysis.word(v) for v in instruction.values]
    if any("://" in w for w in words) or any(_UNCERTAIN.search(w) for w in words):
        return None
    return words[:-1], words[-1]


def _context_locks(analysis: Analysis) -> set[str]:
    """Context paths of lock files some COPY names: the build fails if they are missing (or
    ignored by .dockerignore), so a copy of their directory certainly carries them."""
    found: set[str] = set()
    for _facts, instruction in analysis.instructions(triggers=False):
        parsed = _literal_sources(analysis, instruction)
        if parsed is None:
            continue
        for source in parsed[0]:
            path = posixpath.normpath(source.lstrip("/"))
            if posixpath.basename(path) in LOCK_NAMES:
                found.add(path)
    return found


def _landed(sources: list[str], dest: str, workdir: str, context_locks: set[str]) -> Iterator[str]:
    """Image paths where this COPY certainly puts a lock file."""
    base = posixpath.normpath(posixpath.join(workdir, dest))
    into_dir = dest.endswith("/") or dest in (".", "..") or base == workdir or len(sources) > 1
    for source in sources:
        path = posixpath.normpath(source.lstrip("/"))
        name = posixpath.basename(path)
        if name in LOCK_NAMES:
            if into_dir:
                yield posixpath.join(base, name)
            elif posixpath.basename(base) == name:
                yield base
            continue
        # A directory (or the whole context, "."): its contents go under the destination.
        for lock in context_locks:
            if path == ".":
                yield posixpath.join(base, lock)
            elif lock.startswith(path + "/"):
                yield posixpath.join(base, lock[len(path) + 1 :])


def _mentions_lock(text: str) -> bool:
    return any(name in text for name in LOCK_NAMES)


@rule(
    "TD122", "npm install where a lock file was copied", Severity.INFO, "size",
    what="`npm install` (no package names) in a RUN whose working directory certainly holds a "
    "`package-lock.json` or `npm-shrinkwrap.json` copied earlier in the stage.",
    why="`npm install` may resolve newer versions than the lock and rewrite it, so two builds "
    "of the same files can differ; `npm ci` installs exactly the lock, fails when it disagrees "
    "with package.json, and starts from an empty node_modules.",
    example="WORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm install",
    instead="WORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci",
)  # fmt: skip
def npm_install_with_lock(analysis: Analysis) -> Iterator[Hit]:
    context_locks = _context_locks(analysis)
    if not context_locks:
        return
    state: dict[int, dict[str, int]] = {}  # stage index -> lock path -> line of its COPY
    for facts in analysis.stages:
        parent = facts.stage.parent_stage
        locks = dict(state.get(parent, {})) if parent is not None else {}
        for position, instruction in enumerate(facts.stage.instructions):
            workdir = facts.workdirs[position]
            parsed = _literal_sources(analysis, instruction)
            if parsed is not None:
                for path in _landed(parsed[0], parsed[1], workdir, context_locks):
                    locks[path] = instruction.line
                continue
            if instruction.keyword != "RUN":
                continue
            script = analysis.script(instruction, facts.shell[position])
            if _mentions_lock(instruction.rest) or any(
                _mentions_lock(h.content) for h in instruction.heredocs
            ):
                locks.clear()  # the RUN may move or delete it: no longer certain
                continue
            if any(c.name in ("cd", "pushd") for c in script.commands):
                continue
            for item in installs(script):
                command = item.command
                if (
                    item.tool != "npm"
                    or item.packages
                    or command.subcommand() not in ("install", "i")
                    or command.has_flag(*_NOT_THE_LOCK)
                ):
                    continue
                for name in LOCK_NAMES:
                    line = locks.get(posixpath.join(workdir, name))
                    if line is not None:
                        yield Hit(
                            command_span(command, instruction),
                            f"npm install with {name} copied in on line {line}: "
                            "`npm ci` installs exactly the lock",
                            evidence=(("lock", posixpath.join(workdir, name)), ("copy_line", line)),
                        )
                        break
        state[facts.stage.index] = locks
