"""Inline and global ignore pragmas: `# trimdock ignore=TD101` and hadolint's equivalents."""

from __future__ import annotations

import re
from dataclasses import dataclass

from trimdock.dockerfile.model import Dockerfile

_PRAGMA = re.compile(r"^(trimdock|hadolint)\s+(global\s+)?ignore\s*=\s*([A-Za-z0-9_,\s-]+)$", re.I)


@dataclass(frozen=True)
class Pragmas:
    global_ids: frozenset[str]
    # (first line, last line) of an instruction -> ids ignored on it
    ranges: tuple[tuple[int, int, frozenset[str]], ...]

    def ignores(self, canonical_ids: set[str], line: int) -> bool:
        if canonical_ids & self.global_ids:
            return True
        return any(start <= line <= end and canonical_ids & ids for start, end, ids in self.ranges)


def read_pragmas(dockerfile: Dockerfile) -> Pragmas:
    """Ids are returned as written (upper case); the engine maps DL ids to TD ids."""
    global_ids: set[str] = set()
    pending: list[tuple[int, set[str]]] = []
    for comment in dockerfile.comments:
        match = _PRAGMA.match(comment.text)
        if not match:
            continue
        ids = {part.strip().upper() for part in re.split(r"[,\s]+", match.group(3)) if part.strip()}
        if match.group(2):
            global_ids |= ids
        else:
            pending.append((comment.span.line, ids))
    ranges: list[tuple[int, int, frozenset[str]]] = []
    instructions = dockerfile.instructions
    index = 0
    for line, ids in sorted(pending):
        while index < len(instructions) and instructions[index].span.line <= line:
            index += 1
        if index < len(instructions):
            target = instructions[index]
            ranges.append((target.span.line, target.span.end_line, frozenset(ids)))
    return Pragmas(frozenset(global_ids), tuple(ranges))
