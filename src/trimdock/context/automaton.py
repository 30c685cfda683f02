"""Every ignore pattern of a file run at once, as a lazily built DFA: linear time, no backtracking.

The patterns' NFAs (goregex.Program) are joined into one; a DFA state is the set of NFA positions
alive after some text, built only when a path first needs it and cached by (state, character).
So a path costs one dictionary lookup per character whatever the patterns are, and the answer is
the set of patterns matching the whole path (`Hits`). A walk feeds a directory's state only the
next name, so each path is read once. This is how RE2 runs Go's regexp, which Docker uses.

Assertions are resolved when a state is closed over its epsilon moves: `^` needs the start, `$` the
end, `\\b` the kind (word or not) of the previous and the next character, so a state remembers
whether it is at the start and whether the last character was a word character.
"""

from __future__ import annotations

from collections.abc import Sequence

from trimdock.context.goregex import Assertion, CharSet, Op, Program, is_word

# Cached NFA positions (summed over DFA states) before the cache is dropped and rebuilt as paths
# need it, as RE2 does with its DFA memory budget: a few tens of MB whatever the ignore file.
MAX_CACHED_POSITIONS = 1_000_000
# Patterns per DFA. Building a DFA state costs the size of its NFA, and with hundreds of `**`
# patterns alive in every state, one DFA over all of them rebuilt huge states for each new name;
# chunks of 64 keep each state small and a typical file (tens of patterns) in a single DFA.
CHUNK = 64
# Combined states (one per tuple of chunk states) cached before that cache is dropped too.
MAX_COMBINED_STATES = 200_000


class Hits:
    """The set of patterns (indices) matching a path; one shared object per distinct set."""

    __slots__ = ("id", "member_set", "members")

    def __init__(self, ident: int, members: frozenset[int]) -> None:
        self.id = ident
        self.members: tuple[int, ...] = tuple(sorted(members))
        self.member_set = members


class _Closed:
    """A state's epsilon closure for one context: its character moves, grouped for speed."""

    __slots__ = ("equal", "general", "owners", "unequal")

    def __init__(self) -> None:
        self.equal: dict[str, list[int]] = {}  # a literal character -> next positions
        self.unequal: dict[str, list[int]] = {}  # any character but this one (`[^/]`, `.`)
        self.general: list[tuple[CharSet, int]] = []
        self.owners: set[int] = set()  # patterns whose match instruction is reached


class State:
    __slots__ = ("accept", "at_start", "closed", "next", "pcs", "prev_word")

    def __init__(self, pcs: frozenset[int], at_start: bool, prev_word: bool) -> None:
        self.pcs = pcs
        self.at_start = at_start
        self.prev_word = prev_word
        self.next: dict[str, State] = {}
        self.accept: Hits | None = None
        self.closed: dict[bool | None, _Closed] = {}


def _kind(test: CharSet) -> tuple[str, str]:
    if not test.complements and len(test.ranges) == 1:
        lo, hi = test.ranges[0]
        if lo == hi:
            return ("unequal" if test.negated else "equal"), lo
    return "general", ""


class _Dfa:
    """The lazy DFA of a few patterns (one chunk)."""

    def __init__(self, programs: Sequence[Program], budget: int) -> None:
        self._budget = budget
        self._op: list[Op] = []
        self._x: list[int] = []
        self._y: list[int] = []
        self._test: list[CharSet | None] = []
        self._assert: list[Assertion | None] = []
        self._owner: list[int] = []
        starts: list[int] = []
        for owner, program in enumerate(programs):
            base = len(self._op)
            for inst in program.insts:
                self._op.append(inst.op)
                self._x.append(inst.x + base if inst.x >= 0 else -1)
                self._y.append(inst.y + base if inst.y >= 0 else -1)
                self._test.append(inst.test)
                self._assert.append(inst.assertion)
                self._owner.append(owner)
            starts.append(base + program.start)
        self._kinds = [_kind(t) if t is not None else ("", "") for t in self._test]
        self.word_sensitive = any(a in (Assertion.WORD, Assertion.NOT_WORD) for a in self._assert)
        self._states: dict[tuple[frozenset[int], bool, bool], State] = {}
        self._positions = 0
        self._hits: dict[frozenset[int], Hits] = {}
        self.hits_by_id: list[Hits] = []
        self._hits_of(frozenset())  # id 0: no pattern matches
        self.initial = self._state(frozenset(starts), True, False)

    def _hits_of(self, owners: frozenset[int]) -> Hits:
        found = self._hits.get(owners)
        if found is None:
            found = Hits(len(self.hits_by_id), owners)
            self._hits[owners] = found
            self.hits_by_id.append(found)
        return found

    def _state(self, pcs: frozenset[int], at_start: bool, prev_word: bool) -> State:
        key = (pcs, at_start, prev_word)
        found = self._states.get(key)
        if found is None:
            found = State(pcs, at_start, prev_word)
            self._states[key] = found
            self._positions += len(pcs) + 1
        return found

    def _flush(self) -> None:
        """Drop every cached state and transition; states still held keep working."""
        for state in self._states.values():
            state.next.clear()
            state.closed.clear()
        self._states.clear()
        self._positions = 0
        self._states[(self.initial.pcs, True, False)] = self.initial

    def _close(self, state: State, ahead: str | None) -> _Closed:
        """The epsilon closure of `state` before character `ahead` (None: the end)."""
        next_word = ahead is not None and is_word(ahead)
        key: bool | None = None if ahead is None else (next_word if self.word_sensitive else True)
        closed = state.closed.get(key)
        if closed is not None:
            return closed
        closed = _Closed()
        ops, xs, ys, asserts, kinds = self._op, self._x, self._y, self._assert, self._kinds
        seen: set[int] = set()
        stack = list(state.pcs)
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            op = ops[pc]
            if op is Op.CHAR:
                kind, ch = kinds[pc]
                if kind == "equal":
                    closed.equal.setdefault(ch, []).append(xs[pc])
                elif kind == "unequal":
                    closed.unequal.setdefault(ch, []).append(xs[pc])
                else:
                    test = self._test[pc]
                    assert test is not None
                    closed.general.append((test, xs[pc]))
            elif op is Op.SPLIT:
                stack.append(ys[pc])
                stack.append(xs[pc])
            elif op is Op.ASSERT:
                what = asserts[pc]
                if what is Assertion.START:
                    holds = state.at_start
                elif what is Assertion.END:
                    holds = ahead is None
                elif what is Assertion.WORD:
                    holds = state.prev_word != next_word
                else:
                    holds = state.prev_word == next_word
                if holds:
                    stack.append(xs[pc])
            else:
                closed.owners.add(self._owner[pc])
        state.closed[key] = closed
        self._positions += len(seen)
        return closed

    def step(self, state: State, ch: str) -> State:
        """The state after `ch` (cached on `state`)."""
        found = state.next.get(ch)
        if found is not None:
            return found
        if self._positions > self._budget:
            self._flush()
        closed = self._close(state, ch)
        targets: set[int] = set(closed.equal.get(ch, ()))
        for other, positions in closed.unequal.items():
            if ch != other:
                targets.update(positions)
        for test, x in closed.general:
            if test.contains(ch):
                targets.add(x)
        after = self._state(
            frozenset(targets), False, is_word(ch) if self.word_sensitive else False
        )
        state.next[ch] = after
        return after

    def feed(self, state: State, text: str) -> State:
        for ch in text:
            found = state.next.get(ch)
            state = found if found is not None else self.step(state, ch)
        return state

    def accept(self, state: State) -> Hits:
        """The patterns matching the whole text that led to `state`."""
        hits = state.accept
        if hits is None:
            hits = self._hits_of(frozenset(self._close(state, None).owners))
            state.accept = hits
        return hits


class States:
    """The state of every chunk's DFA after some text; cached transitions, like a DFA state."""

    __slots__ = ("accept", "next", "parts")

    def __init__(self, parts: tuple[State, ...]) -> None:
        self.parts = parts
        self.next: dict[str, States] = {}
        self.accept: Hits | None = None


class Automaton:
    """All patterns of an ignore file: one DFA per chunk of CHUNK patterns, run in step."""

    def __init__(self, programs: Sequence[Program]) -> None:
        starts = range(0, max(len(programs), 1), CHUNK)
        budget = max(MAX_CACHED_POSITIONS // len(starts), MAX_CACHED_POSITIONS // 16)
        self._parts = [(_Dfa(programs[at : at + CHUNK], budget), at) for at in starts]
        self._single = len(self._parts) == 1
        first = self._parts[0][0]
        self.hits_by_id: list[Hits] = first.hits_by_id if self._single else []
        self._combined_hits: dict[tuple[int, ...], Hits] = {}
        self._states: dict[tuple[State, ...], States] = {}
        self.initial = self._intern(tuple(dfa.initial for dfa, _ in self._parts))

    def _intern(self, parts: tuple[State, ...]) -> States:
        found = self._states.get(parts)
        if found is None:
            if len(self._states) >= MAX_COMBINED_STATES:
                for state in self._states.values():
                    state.next.clear()
                self._states.clear()
            found = States(parts)
            self._states[parts] = found
        return found

    def step(self, states: States, ch: str) -> States:
        """The states after `ch` (cached on `states`)."""
        found = states.next.get(ch)
        if found is None:
            parts = tuple(
                dfa.step(s, ch) for (dfa, _), s in zip(self._parts, states.parts, strict=True)
            )
            found = self._intern(parts)
            states.next[ch] = found
        return found

    def feed(self, states: States, text: str) -> States:
        for ch in text:
            found = states.next.get(ch)
            states = found if found is not None else self.step(states, ch)
        return states

    def accept(self, states: States) -> Hits:
        """The patterns matching the whole text that led to `states`."""
        hits = states.accept
        if hits is None:
            if self._single:
                hits = self._parts[0][0].accept(states.parts[0])
            else:
                hits = self._combine(
                    tuple(
                        dfa.accept(s).id
                        for (dfa, _), s in zip(self._parts, states.parts, strict=True)
                    )
                )
            states.accept = hits
        return hits

    def _combine(self, ids: tuple[int, ...]) -> Hits:
        found = self._combined_hits.get(ids)
        if found is None:
            members = frozenset(
                at + index
                for (dfa, at), hit_id in zip(self._parts, ids, strict=True)
                for index in dfa.hits_by_id[hit_id].members
            )
            found = Hits(len(self.hits_by_id), members)
            self.hits_by_id.append(found)
            self._combined_hits[ids] = found
        return found

    def hits(self, text: str) -> Hits:
        return self.accept(self.feed(self.initial, text))
