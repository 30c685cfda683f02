"""Which entries of the context reach the builder, for each builder's walk (pure).

Both builders walk the tree and ask `MatchesUsingParentResults` about each entry. They differ on
an excluded directory:
- legacy (docker CLI `TarWithOptions`): descends only when the text of some exception plus `/`
  starts with `dir/`; otherwise nothing inside is looked at, so `!**/keep.txt` cannot rescue it.
- BuildKit (fsutil): when every exception is a plain prefix (ignoring a trailing `/*` or `/**`) it
  does the same; as soon as one exception has a wildcard it descends everywhere.
The legacy CLI also appends `!Dockerfile` / `!.dockerignore` when they are excluded (they are
always sent), and the Engine 20.10 daemon then deletes them again before any COPY runs.

One pass over the entries evaluates every pattern at once (matcher/automaton); a directory's
automaton state and results are handed to its children, so each path is read once.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from enum import StrEnum

from trimdock.context.automaton import States
from trimdock.context.ignorefile import IgnoreFile
from trimdock.context.matcher import NOTHING_DISABLED, Flags, Matcher
from trimdock.context.pattern import Pattern, compile_pattern
from trimdock.context.tree import ContextTree, Kind


class Builder(StrEnum):
    BUILDKIT = "buildkit"
    LEGACY = "legacy"


@dataclass(frozen=True)
class Selection:
    """Per entry of the tree: sent to the builder, and visible to COPY/ADD."""

    builder: Builder
    sent: tuple[bool, ...]
    visible: tuple[bool, ...]
    skipped_dirs: frozenset[int]  # excluded directories the walk never entered


def _has_wildcard(text: str) -> bool:
    return any(c in text for c in "*?[\\")


def _without_trailing_glob(text: str) -> str:
    for suffix in ("/**", "/*"):
        if text.endswith(suffix):
            return text[: -len(suffix)]
    return text


class Pruning:
    """Which excluded directories a builder still enters: those some exception's prefix is under.

    Prefixes are kept sorted, so "does a prefix start with `dir/`" is one binary search (all
    strings starting with `dir/` sit together right after it), whatever the number of exceptions.
    """

    def __init__(self, patterns: tuple[Pattern, ...], builder: Builder) -> None:
        pairs: list[tuple[str, int]] = []
        self._wildcards: set[int] = set()
        for index, pattern in enumerate(patterns):
            if not pattern.exclusion:
                continue
            if builder is Builder.LEGACY:
                pairs.append((pattern.text + "/", index))
                continue
            plain = _without_trailing_glob(pattern.text)
            if _has_wildcard(plain):
                self._wildcards.add(index)  # BuildKit must then look at every entry
            pairs.append((plain + "/", index))
        pairs.sort()
        self._prefixes = [p for p, _ in pairs]
        self._owners = [o for _, o in pairs]

    def enters(self, dir_slash: str, without: int = NOTHING_DISABLED) -> bool:
        """Does the walk descend into this excluded directory (pattern `without` removed)?"""
        if self._wildcards and self._wildcards != {without}:
            return True
        prefixes = self._prefixes
        at = bisect_left(prefixes, dir_slash)
        for j in (at, at + 1):  # `without` owns at most one of them
            if j < len(prefixes) and prefixes[j].startswith(dir_slash):
                if self._owners[j] != without:
                    return True
            else:
                break
        return False


@dataclass
class WalkRecord:
    """What one walk saw (working data of the walk, dropped after the analysis)."""

    sent: bytearray
    skipped: list[int] = field(default_factory=list)
    dir_flags: dict[int, Flags] = field(default_factory=dict)
    hit_ids: array[int] | None = None  # per entry: the automaton's Hits id (every entry)
    events: list[int] = field(default_factory=list)  # entries where an exception first matched
    event_new: list[tuple[int, ...]] = field(default_factory=list)  # ... and which ones
    entered: list[int] = field(default_factory=list)  # excluded directories the walk entered


class Walker:
    """One builder's walk over one tree with one pattern list."""

    def __init__(self, tree: ContextTree, patterns: tuple[Pattern, ...], builder: Builder):
        self.tree = tree
        self.patterns = patterns
        self.matcher = Matcher(patterns)
        self.pruning = Pruning(patterns, builder)
        # The automaton state after `dir/`, per directory: shared by every walk of this tree.
        self._dir_state: dict[int, States] = {}

    def run(self, *, census: bool = False) -> WalkRecord:
        """The walk; with `census`, also which patterns match every entry (skipped ones too)."""
        n = len(self.tree.entries)
        record = WalkRecord(bytearray(n))
        if census:
            record.hit_ids = array("l", [0]) * n
        record.sent = self._walk(0, n, self.matcher.top, NOTHING_DISABLED, record)
        return record

    def _census(self, start: int, stop: int, hit_ids: array[int]) -> None:
        """Which patterns match each entry of a subtree the walk does not enter."""
        entries = self.tree.entries
        automaton = self.matcher.automaton
        dir_state = self._dir_state
        for i in range(start, stop):
            entry = entries[i]
            state = automaton.feed(dir_state[entry.parent], entry.path.rpartition("/")[2])
            hit_ids[i] = automaton.accept(state).id
            if entry.kind is Kind.DIR and i not in dir_state:
                dir_state[i] = automaton.step(state, "/")

    def _walk(
        self,
        start: int,
        stop: int,
        first_parent: Flags,
        disabled: int,
        record: WalkRecord | None,
    ) -> bytearray:
        """Walk entries[start:stop] (one subtree, or the whole tree); returns "sent" for them."""
        entries = self.tree.entries
        matcher = self.matcher
        automaton = matcher.automaton
        feed, accept, step = automaton.feed, automaton.accept, matcher.step
        enters = self.pruning.enters
        dir_state = self._dir_state
        initial = automaton.initial
        flags: dict[int, Flags] = record.dir_flags if record is not None else {}
        hit_ids = record.hit_ids if record is not None else None
        start_parent = entries[start].parent if start < stop else -1
        sent = bytearray(stop - start)
        i = start
        while i < stop:
            entry = entries[i]
            parent = entry.parent
            state = feed(
                dir_state[parent] if parent >= 0 else initial, entry.path.rpartition("/")[2]
            )
            hits = accept(state)
            outcome = step(
                first_parent if parent == start_parent else flags[parent], hits, disabled
            )
            if record is not None:
                if hit_ids is not None:
                    hit_ids[i] = hits.id
                if outcome.new_exceptions:
                    record.events.append(i)
                    record.event_new.append(outcome.new_exceptions)
            if entry.kind is Kind.DIR:
                if i not in dir_state:
                    dir_state[i] = automaton.step(state, "/")
                flags[i] = outcome.flags
                if outcome.excluded:
                    if not enters(entry.path + "/", disabled):
                        if record is not None:
                            record.skipped.append(i)
                            if hit_ids is not None:
                                self._census(i + 1, entry.end, hit_ids)
                        i = entry.end
                        continue
                    if record is not None:
                        record.entered.append(i)
                    i += 1
                    continue
                sent[i - start] = 1
            elif not outcome.excluded and entry.kind is not Kind.SOCKET:
                sent[i - start] = 1
            i += 1
        return sent

    def without_changes_nothing(self, record: WalkRecord, k: int, roots: list[int]) -> bool:
        """Would the walk send exactly the same entries with exception `k` removed?

        Only subtrees where `k` mattered are walked again: entries where `k` first matched
        (`roots`, from record.events) and excluded directories entered only for `k`'s prefix.
        """
        entries = self.tree.entries
        candidates = [(i, False) for i in roots]
        for d in record.entered:
            if k not in record.dir_flags[d].indices and not self.pruning.enters(
                entries[d].path + "/", k
            ):
                candidates.append((d, True))
        candidates.sort()
        covered = -1
        for i, skipped_without in candidates:
            if i < covered:
                continue
            entry = entries[i]
            covered = entry.end
            if skipped_without:
                # Without `k` nothing under this directory is sent.
                if record.sent.find(1, i + 1, entry.end) != -1:
                    return False
                continue
            parent = entry.parent
            first = record.dir_flags[parent] if parent >= 0 else self.matcher.top
            again = self._walk(i, entry.end, first, k, None)
            if again != record.sent[i : entry.end]:
                return False
        return True


def _with_ancestors(tree: ContextTree, chosen: list[bool]) -> list[bool]:
    """A directory exists in the receiving tree when it or something inside it arrived."""
    out = list(chosen)
    entries = tree.entries
    for i in range(len(entries) - 1, -1, -1):
        if out[i]:
            parent = entries[i].parent
            if parent >= 0:
                out[parent] = True
    return out


def select_walked(
    tree: ContextTree,
    ignore: IgnoreFile,
    builder: Builder,
    dockerfile: str | None = "Dockerfile",
    *,
    census: bool = False,
) -> tuple[Selection, Walker, WalkRecord]:
    """`select`, plus the one walk's walker and record (for rule effects).

    With `census` the record also says which patterns match every entry. The legacy CLI's
    extra `!Dockerfile` / `!.dockerignore` (added when excluded) are part of the one walk: they
    come after the file's own patterns, so indices below len(ignore.rules) are the file's rules.
    """
    patterns = tuple(rule.pattern for rule in ignore.rules)
    always = [".dockerignore"] + ([dockerfile] if dockerfile else [])
    walk_patterns = patterns
    if builder is Builder.LEGACY and patterns:
        decide = Matcher(patterns)
        excluded_always = [name for name in always if decide.decide(name)]
        walk_patterns += tuple(compile_pattern(name, True) for name in excluded_always)
    walker = Walker(tree, walk_patterns, builder)
    record = walker.run(census=census)
    sent = _with_ancestors(tree, [bool(b) for b in record.sent])
    visible = list(sent)
    if builder is Builder.LEGACY and patterns:
        # The 20.10 daemon re-reads .dockerignore with its older matcher and deletes these.
        old = Matcher(
            tuple(compile_pattern(p.text, p.exclusion, shortcuts=False) for p in patterns)
        )
        for name in (".dockerignore", *([dockerfile] if dockerfile else [])):
            at = tree.find(name)
            if at is not None and old.daemon20_decide(name):
                visible[at] = False
    selection = Selection(
        builder=builder,
        sent=tuple(sent),
        visible=tuple(visible),
        skipped_dirs=frozenset(record.skipped),
    )
    return selection, walker, record


def select(
    tree: ContextTree,
    ignore: IgnoreFile,
    builder: Builder,
    dockerfile: str | None = "Dockerfile",
) -> Selection:
    """What the builder receives and what COPY/ADD can see, for `ignore` and `builder`.

    `dockerfile` is the Dockerfile's path relative to the context (None when it lies outside).
    """
    return select_walked(tree, ignore, builder, dockerfile)[0]
