"""Helpers for context tests: write trees with odd names, predict, and ask the engine."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

from tests.support.engine import docker, ensure_engine
from trimdock.context.ignorefile import IgnoreFile, parse_ignore
from trimdock.context.tree import ContextTree, Entry, Kind, scan_tree
from trimdock.context.walk import Builder, select

DOCKERFILE = "FROM busybox:latest\nCOPY . /ctx\n"


def write_tree(root: Path, files: dict[str, bytes], dirs: tuple[str, ...] = ()) -> None:
    """Create files (str paths may carry surrogate-escaped bytes) and empty directories."""
    for rel in dirs:
        os.makedirs(os.path.join(os.fsencode(root), os.fsencode(rel)), exist_ok=True)
    for rel, data in files.items():
        target = os.path.join(os.fsencode(root), os.fsencode(rel))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(data)


def predict(root: Path, ignore_text: str | None, builder: Builder) -> set[str]:
    """Every path (directories included) trimdock says COPY . sees."""
    tree = scan_tree(root)
    ignore = (
        parse_ignore(ignore_text, ".dockerignore") if ignore_text is not None else IgnoreFile(None)
    )
    selection = select(tree, ignore, builder, "Dockerfile")
    return {e.path for e, seen in zip(tree.entries, selection.visible, strict=True) if seen}


def engine_copy_all(root: Path) -> set[str]:
    """Build `COPY . /ctx` with the legacy builder and list what arrived in /ctx."""
    ensure_engine()
    tag = f"trimdock-test/context-oracle:{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    result = subprocess.run(
        ["docker", "build", "-q", "-t", tag, str(root)],
        capture_output=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.decode(errors="replace"))
    try:
        out = subprocess.run(
            ["docker", "run", "--rm", tag, "find", "/ctx", "-mindepth", "1", "-print0"],
            capture_output=True,
            check=True,
        ).stdout
    finally:
        docker("rmi", "-f", tag)
    names = [n for n in out.split(b"\0") if n]
    return {os.fsdecode(n)[len("/ctx/") :] for n in names}


def tree_of(paths: list[tuple[str, Kind]]) -> ContextTree:
    """A ContextTree from (path, kind) in pre-order; parents and subtree ends derived."""
    entries: list[Entry] = []
    index: dict[str, int] = {}
    for i, (path, kind) in enumerate(paths):
        parent = index.get(path.rsplit("/", 1)[0], -1) if "/" in path else -1
        end = i + 1
        if kind is Kind.DIR:
            end = i + 1 + sum(1 for p, _ in paths if p.startswith(path + "/"))
        entries.append(Entry(path, kind, 1, parent, end))
        index[path] = i
    return ContextTree(root="/ctx", entries=tuple(entries))
