"""Deciding whether a path is excluded: moby/patternmatcher's algorithms, ported exactly.

`decide` answers "does the last pattern matching the path or an ancestor exclude it?" (Docker's
`MatchesOrParentMatches`, used for the Dockerfile/.dockerignore checks). Walks use `step`
(`MatchesUsingParentResults`), which both builders call while walking the context: it reuses the
parent directory's per-pattern results and skips evaluating a pattern that cannot change the
answer *for that path*. The skip is recorded as "did not match", so a child can lose an ancestor
match: with `*/b` then `!a`, `a/b` stays excluded although `!a` matches its ancestor `a`. The
engine really does this, so trimdock predicts it.

All patterns are evaluated together by one automaton (linear in the path, see automaton.py); the
per-pattern results are kept sparse (`Flags`: the indices that matched) and each combination of
parent results and hits is computed once, so a walk does O(1) work per entry beyond its name.
"""

from __future__ import annotations

from collections.abc import Sequence

from trimdock.context.automaton import Automaton, Hits
from trimdock.context.pattern import Pattern

NOTHING_DISABLED = -1


class Flags:
    """A directory's per-pattern results handed to its children: the indices that matched."""

    __slots__ = ("_memo", "excluded", "indices")

    def __init__(self, indices: tuple[int, ...], excluded: bool) -> None:
        self.indices = indices
        self.excluded = excluded  # the verdict: the last matching pattern is not an exception
        self._memo: dict[tuple[int, int], Outcome] = {}


class Outcome:
    """One entry's verdict, its results, and the exceptions first matched here (not inherited)."""

    __slots__ = ("excluded", "flags", "new_exceptions")

    def __init__(self, flags: Flags, new_exceptions: tuple[int, ...]) -> None:
        self.excluded = flags.excluded
        self.flags = flags
        self.new_exceptions = new_exceptions


def parent_dirs(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class Matcher:
    """The compiled patterns of one ignore file; immutable apart from its caches."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        self.patterns: tuple[Pattern, ...] = tuple(patterns)
        self.exclusion: tuple[bool, ...] = tuple(p.exclusion for p in self.patterns)
        self.automaton = Automaton([p.program for p in self.patterns])
        self.top = Flags((), False)  # what a top-level entry inherits: nothing matched

    def hits(self, path: str) -> Hits:
        """The patterns matching exactly `path`."""
        return self.automaton.hits(path)

    def step(self, parent: Flags, hits: Hits, disabled: int = NOTHING_DISABLED) -> Outcome:
        """MatchesUsingParentResults for a path with `hits`, its parent directory's `parent`.

        `disabled` names a pattern treated as absent (to ask what an exception changes).
        """
        key = (hits.id, disabled)
        known = parent._memo.get(key)
        if known is not None:
            return known
        inherited = parent.indices
        if not hits.members:
            outcome = Outcome(parent, ())
        else:
            own = set(inherited)
            exclusion = self.exclusion
            matched = False
            out: list[int] = []
            new: list[int] = []
            for i in sorted(own.union(hits.members)):
                if i not in own:
                    # Evaluated only when it could flip the verdict; else recorded as no match.
                    if i == disabled or exclusion[i] != matched:
                        continue
                    if exclusion[i]:
                        new.append(i)
                out.append(i)
                matched = not exclusion[i]
            flags = parent if len(out) == len(inherited) else Flags(tuple(out), matched)
            outcome = Outcome(flags, tuple(new))
        parent._memo[key] = outcome
        return outcome

    def decide(self, path: str) -> bool:
        """MatchesOrParentMatches: the documented semantics, no walk state."""
        found: set[int] = set(self.hits(path).members)
        for directory in parent_dirs(path):
            found.update(self.hits(directory).members)
        matched = False
        for i, exclusion in enumerate(self.exclusion):
            if exclusion == matched and i in found:
                matched = not exclusion
        return matched

    def daemon20_decide(self, path: str) -> bool:
        """Engine 20.10's `fileutils.Matches` (how its daemon drops an excluded Dockerfile)."""
        matched = False
        parents = path.split("/")[:-1]
        own = self.hits(path).member_set
        for i, pattern in enumerate(self.patterns):
            match = i in own
            if not match and parents:
                dirs = pattern.text.split("/")
                if len(dirs) <= len(parents):
                    match = i in self.hits("/".join(parents[: len(dirs)])).member_set
            if match:
                matched = not pattern.exclusion
        return matched
