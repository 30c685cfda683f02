"""The build context as a flat, pre-ordered list of entries, and the one function that reads it.

`scan_tree` is the only I/O: one `lstat` per entry, symlinks never followed (Docker sends them as
links, so a symlink loop is just two links), entries sorted by name bytes like Go's Walk. Each
directory records where its subtree ends, so a walk can skip it in O(1). Problems (unreadable
files, directories that cannot be listed, sockets Docker cannot send) are recorded, never raised.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path

from trimdock.errors import ContextError


class Kind(Enum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    OTHER = "other"  # fifo, device
    SOCKET = "socket"  # not sendable: Docker's tar writer skips it


@dataclass(frozen=True, slots=True)
class Entry:
    path: str  # relative, '/'-separated, surrogateescape-decoded
    kind: Kind
    size: int  # bytes of a regular file, else 0
    parent: int  # index of the parent directory entry, -1 at the top level
    end: int  # for a directory: index after its last descendant; else own index + 1
    readable: bool = True
    link: str | None = None  # symlink target as written


@dataclass(frozen=True)
class Problem:
    path: str
    problem: str  # "unreadable-file", "unlistable-dir", "socket", "vanished"
    detail: str


@dataclass(frozen=True)
class ContextTree:
    root: str
    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...] = ()

    def index(self) -> dict[str, int]:
        return {entry.path: i for i, entry in enumerate(self.entries)}

    def find(self, path: str) -> int | None:
        """The entry at `path`, visiting only the siblings on the way (no index of the tree)."""
        entries = self.entries
        i, stop = 0, len(entries)
        prefix = ""
        for part in path.split("/"):
            want = prefix + part
            while i < stop and entries[i].path != want:
                i = entries[i].end  # skip that sibling's whole subtree
            if i >= stop:
                return None
            if want == path:
                return i
            i, stop = i + 1, entries[i].end
            prefix = want + "/"
        return None

    @cached_property
    def directories(self) -> tuple[int, ...]:
        return tuple(i for i, e in enumerate(self.entries) if e.kind is Kind.DIR)


def _readable(st: os.stat_result, uid: int, gids: frozenset[int]) -> bool:
    if uid == 0:
        return True
    mode = st.st_mode
    if st.st_uid == uid:
        return bool(mode & stat.S_IRUSR)
    if st.st_gid in gids:
        return bool(mode & stat.S_IRGRP)
    return bool(mode & stat.S_IROTH)


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def scan_tree(root: Path) -> ContextTree:
    """Read the whole context tree under `root` (never following symlinks)."""
    try:
        top = os.lstat(root)
    except OSError as exc:
        raise ContextError(f"cannot read build context: {exc.strerror}", source=str(root)) from exc
    if not stat.S_ISDIR(top.st_mode):
        raise ContextError("build context is not a directory", source=str(root))
    uid = os.geteuid()
    gids = frozenset([os.getegid(), *os.getgroups()])
    entries: list[Entry | None] = []
    problems: list[Problem] = []

    def listing(directory: str) -> list[os.DirEntry[str]] | None:
        try:
            with os.scandir(directory) as it:
                found = list(it)
        except OSError as exc:
            rel = os.path.relpath(directory, root).replace(os.sep, "/")
            problems.append(Problem(rel, "unlistable-dir", exc.strerror or str(exc)))
            return None
        if all(e.name.isascii() for e in found):
            found.sort(key=_name)  # ASCII: the same order as the bytes, without encoding each
        else:
            found.sort(key=lambda e: os.fsencode(e.name))
        return found

    # Iterative depth-first walk: deep trees must not hit Python's recursion limit. Each level
    # keeps an iterator over its sorted listing; entering a directory breaks out of the loop and
    # the parent's iterator resumes where it stopped once the directory is done.
    is_dir, is_reg, is_lnk, is_sock = stat.S_ISDIR, stat.S_ISREG, stat.S_ISLNK, stat.S_ISSOCK
    append = entries.append
    stack: list[tuple[Iterator[os.DirEntry[str]], str, int]] = []
    top_list = listing(str(root))
    if top_list is not None:
        stack.append((iter(top_list), "", -1))
    while stack:
        items, prefix, parent = stack[-1]
        for item in items:
            rel = prefix + item.name
            try:
                st = item.stat(follow_symlinks=False)
            except OSError as exc:
                problems.append(Problem(rel, "vanished", exc.strerror or str(exc)))
                continue
            mode = st.st_mode
            index = len(entries)
            if is_reg(mode):
                ok = uid == 0 or _readable(st, uid, gids)
                if not ok:
                    problems.append(Problem(rel, "unreadable-file", "permission denied"))
                append(Entry(rel, Kind.FILE, st.st_size, parent, index + 1, ok))
            elif is_dir(mode):
                append(Entry(rel, Kind.DIR, 0, parent, index + 1))
                children = listing(item.path)
                if children is None:
                    entries[index] = Entry(rel, Kind.DIR, 0, parent, index + 1, readable=False)
                else:
                    stack.append((iter(children), rel + "/", index))
                    break
            elif is_lnk(mode):
                try:
                    target = os.readlink(item.path)
                except OSError:
                    target = ""
                append(Entry(rel, Kind.SYMLINK, 0, parent, index + 1, link=target))
            elif is_sock(mode):
                problems.append(Problem(rel, "socket", "sockets cannot be sent to the builder"))
                append(Entry(rel, Kind.SOCKET, 0, parent, index + 1))
            else:  # a FIFO or device: recorded from lstat, never opened
                append(Entry(rel, Kind.OTHER, 0, parent, index + 1))
        else:
            stack.pop()
            if parent >= 0:
                done = entries[parent]
                assert done is not None
                entries[parent] = Entry(
                    done.path, done.kind, 0, done.parent, len(entries), done.readable
                )
    final = tuple(e for e in entries if e is not None)
    return ContextTree(root=str(root), entries=final, problems=tuple(problems))
