"""What the image runs, for the categories that depend on it: Python bytecode of interpreters
the image does not run, and source of compiled languages next to a binary built in the image.

Pure, and conservative: these only ever say "likely", and stay quiet whenever the filesystem
and the entrypoint do not tell enough (a console script whose interpreter is in its shebang,
a binary the image did not build itself, an app's own `__pycache__`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Protocol

_PYC = re.compile(r"\.cpython-(\d)(\d+)(?:\.opt-\d)?\.pyc$")
_INTERPRETER = re.compile(r"^python(\d)\.(\d+)$")
_PACKAGE_DIRS = frozenset({"site-packages", "dist-packages"})
_PATH_DIRS = ("usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin")
# Runtimes that run something else: their arguments, not themselves, are the app.
_RUNNERS = frozenset(
    {
        "sh", "bash", "dash", "ash", "zsh", "env", "exec", "tini", "dumb-init", "gosu",
        "su-exec", "java", "node", "deno", "bun", "ruby", "perl", "php", "dotnet", "mono",
        "python", "python2", "python3", "pypy", "pypy3", "uvicorn", "gunicorn",
    }
)  # fmt: skip
_SCRIPT = re.compile(r"\.(?:sh|bash|py|pyc|js|mjs|cjs|ts|rb|pl|php|jar|war|dll|lua|r)$", re.I)
COMPILED_SOURCE = re.compile(
    r"\.(?:go|c|h|cc|cpp|cxx|hh|hpp|hxx|rs|java|kt|scala|cs|swift|zig|f90|f95)$"
)


class _File(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def layer(self) -> int: ...


def _words(runtime: Sequence[str]) -> list[str]:
    words: list[str] = []
    for word in runtime:
        for sep in ";&|()":
            word = word.replace(sep, " ")
        words.extend(word.split())
    return words


def pyc_version(path: str) -> str | None:
    """`3.11` for a `__pycache__/*.cpython-311.pyc` file of an installed package
    (under `site-packages` or `dist-packages`); None for anything else (an app's own
    bytecode included)."""
    match = _PYC.search(path)
    if match is None:
        return None
    parts = path.split("/")
    if len(parts) < 3 or parts[-2] != "__pycache__" or not _PACKAGE_DIRS.intersection(parts):
        return None
    return f"{match.group(1)}.{match.group(2)}"


def interpreters_run(files: Sequence[_File], runtime: Sequence[str]) -> frozenset[str]:
    """The Python versions the image may run: the one its entrypoint or command names
    (`python3.12`, or a `python3` whose bin folder holds one `python3.X`), else every
    `bin/pythonX.Y` the image holds. Empty when unknown (nothing is then flagged)."""
    present: dict[str, set[str]] = {}  # bin folder -> versions
    for file in files:
        folder, _, name = file.path.rpartition("/")
        if name.startswith("python") and folder.endswith("bin"):
            match = _INTERPRETER.match(name)
            if match is not None:
                present.setdefault(folder, set()).add(f"{match.group(1)}.{match.group(2)}")
    named: set[str] = set()
    for word in _words(runtime):
        folder, _, name = word.strip("'\"").lstrip("/").rpartition("/")
        match = _INTERPRETER.match(name)
        if match is not None:
            named.add(f"{match.group(1)}.{match.group(2)}")
        elif name in ("python", "python3") and folder and len(present.get(folder, ())) == 1:
            named.update(present[folder])
    if named:
        return frozenset(named)
    return frozenset(v for versions in present.values() for v in versions)


def built_artefact(
    files: Sequence[_File],
    runtime: Sequence[str],
    workdir: str,
    owners: Mapping[str, str],
    instructions: Sequence[str],
) -> _File | None:
    """The compiled program the image runs, when the image built it itself: the first
    entrypoint/command word naming a file of the image that no package owns, that is not a
    script or a runner (shell, interpreter, JVM) and that a `RUN` layer wrote."""
    wanted: list[str] = []
    for word in _words(runtime):
        word = word.strip("'\"")
        name = word.rpartition("/")[2]
        if not name or name in _RUNNERS or _SCRIPT.search(name) or word.startswith("-"):
            continue
        if word.startswith("/"):
            wanted.append(posixpath.normpath(word).lstrip("/"))
        elif "/" in word:
            wanted.append(posixpath.normpath(posixpath.join("/", workdir, word)).lstrip("/"))
        else:
            wanted.extend(f"{folder}/{word}" for folder in _PATH_DIRS)
    if not wanted:
        return None
    order = {path: i for i, path in reversed(list(enumerate(wanted)))}
    found = [file for file in files if file.path in order]
    for file in sorted(found, key=lambda f: order[f.path]):
        if file.path in owners:
            continue
        instruction = instructions[file.layer] if 0 <= file.layer < len(instructions) else ""
        if instruction.lstrip().upper().startswith("RUN"):
            return file
    return None


def beside_build(
    path: str, layer: int, artefact: _File, workdir: str, instructions: Sequence[str]
) -> bool:
    """Whether a compiled-language source file sits where the build of `artefact` left it:
    in the binary's folder, in the WORKDIR, or copied in (COPY/ADD) before the binary was
    built."""
    if COMPILED_SOURCE.search(path) is None:
        return False
    folder = artefact.path.rpartition("/")[0]
    work = workdir.strip("/")
    if (folder and path.startswith(folder + "/")) or (work and path.startswith(work + "/")):
        return True
    if layer >= artefact.layer or not 0 <= layer < len(instructions):
        return False
    return instructions[layer].lstrip().upper().startswith(("COPY", "ADD"))
