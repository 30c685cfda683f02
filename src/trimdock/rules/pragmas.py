"""Inline and global ignore pragmas: `# trimdock ignore=TD101` and hadolint's equivalents."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from trimdock.dockerfile.model import Dockerfile

# No `\s*` between `=` and the ids: the ids take blanks too, and the overlap backtracked
# quadratically on a long run of blanks.
_PRAGMA = re.compile(r"^(trimdock|hadolint)\s+(global\s+)?ignore\s*=([A-Za-z0-9_,\s-]+)$", re.I)


@dataclass(frozen=True)
class Pragmas:
    global_ids: frozenset[str]
    # (first line, last line) of an instruction -> ids ignored on it
    ranges: tuple[tuple[int, int, frozenset[str]], ...]

    @cached_property
    def by_line(self) -> dict[int, frozenset[str]]:
        """Ids ignored on each line: checking a finding against every range made a file with
        30k pragmas and 30k findings take minutes. Ranges are whole instructions, which do not
        overlap: merged per instruction first, the work is at most the file's lines."""
        merged: dict[tuple[int, int], frozenset[str]] = {}
        for start, end, ids in self.ranges:  # many pragmas may name one instruction
            merged[(start, end)] = merged.get((start, end), frozenset()) | ids
        lines: dict[int, frozenset[str]] = {}
        for (start, end), ids in merged.items():
            for line in range(start, end + 1):
                lines[line] = lines.get(line, frozenset()) | ids
        return lines

    def ignored_on(self, line: int) -> frozenset[str]:
        return self.by_line.get(line, frozenset())

    def ignores(self, canonical_ids: set[str], line: int) -> bool:
        if canonical_ids & self.global_ids:
            return True
        return bool(canonical_ids & self.ignored_on(line))


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


def parse_pragma(text: str) -> tuple[bool, frozenset[str]] | None:
    """(global?, ids as written, upper case) of one comment's text without its `#`; None when
    the comment is no pragma. Other file kinds (Compose) read their comments with this."""
    match = _PRAGMA.match(text.strip())
    if not match:
        return None
    ids = frozenset(p.strip().upper() for p in re.split(r"[,\s]+", match.group(3)) if p.strip())
    return bool(match.group(2)), ids
