"""Deciding whether a path is excluded: moby/patternmatcher's algorithms, ported exactly.

`decide` answers "does the last pattern matching the path or an ancestor exclude it?" (Docker's
`MatchesOrParentMatches`, used for the Dockerfile/.dockerignore checks). Walks use
`matches_using_parent` (`MatchesUsingParentResults`), which both builders call while walking the
context: it reuses the parent directory's per-pattern results and skips evaluating a pattern that
cannot change the answer *for that path*. The skip is recorded as "did not match", so a child can
lose an ancestor match: with `*/b` then `!a`, `a/b` stays excluded although `!a` matches its
ancestor `a`. The engine really does this, so trimdock predicts it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from trimdock.context.pattern import Pattern

Flags = tuple[bool, ...]


def parent_dirs(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class Matcher:
    """Immutable after construction; holds compiled patterns and a combined pre-filter."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        self.patterns: tuple[Pattern, ...] = tuple(patterns)
        self.has_exclusions = any(p.exclusion for p in self.patterns)
        joined = "|".join(f"(?:{p.python_regex()})" for p in self.patterns)
        # One C-level test answers "does any pattern match this very path?" for most paths.
        self._any: re.Pattern[str] | None = re.compile(joined, re.ASCII) if self.patterns else None
        self._none: Flags = (False,) * len(self.patterns)
        self._verdict: dict[Flags, bool] = {}

    def _verdict_of(self, flags: Flags) -> bool:
        cached = self._verdict.get(flags)
        if cached is None:
            cached = False
            for pattern, flag in zip(self.patterns, flags, strict=True):
                if flag:
                    cached = not pattern.exclusion
            self._verdict[flags] = cached
        return cached

    def matches_using_parent(self, path: str, parent: Flags | None) -> tuple[bool, Flags]:
        """MatchesUsingParentResults; `parent` None means no information (top level)."""
        if not self.patterns:
            return False, ()
        if self._any is not None and self._any.match(path) is None:
            flags = parent if parent is not None else self._none
            return self._verdict_of(flags), flags
        matched = False
        out: list[bool] = []
        for i, pattern in enumerate(self.patterns):
            match = parent[i] if parent is not None else False
            if not match:
                if pattern.exclusion != matched:
                    out.append(False)
                    continue
                match = pattern.match(path)
                if not match and parent is None:
                    match = any(pattern.match(d) for d in parent_dirs(path))
            out.append(match)
            if match:
                matched = not pattern.exclusion
        return matched, tuple(out)

    def decide(self, path: str) -> bool:
        """MatchesOrParentMatches: the documented semantics, no walk state."""
        matched = False
        parents = parent_dirs(path)
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            match = pattern.match(path) or any(pattern.match(d) for d in parents)
            if match:
                matched = not pattern.exclusion
        return matched

    def daemon20_decide(self, path: str) -> bool:
        """Engine 20.10's `fileutils.Matches` (how its daemon drops an excluded Dockerfile)."""
        matched = False
        parents = path.split("/")[:-1]
        for pattern in self.patterns:
            match = pattern.match(path)
            if not match and parents:
                dirs = pattern.text.split("/")
                if len(dirs) <= len(parents):
                    match = pattern.match("/".join(parents[: len(dirs)]))
            if match:
                matched = not pattern.exclusion
        return matched
