"""What each ignore rule does, from the one walk of the context (pure).

- how many paths each pattern matches (every entry, also inside directories the walk skips): a
  pattern matching nothing is stale;
- for exceptions, whether removing one changes what the builder receives. Only the subtrees where
  the exception first matched (or whose entry depended on its prefix) are walked again, so the
  answer costs what the exception touches, not a walk of the whole context per exception.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from trimdock.context.walk import Walker, WalkRecord

# Exceptions checked for an effect: each check re-walks the subtrees the exception touches, so a
# file of thousands of exceptions stays bounded (the first ones are reported, as before).
MAX_EXCEPTION_CHECKS = 32


@dataclass(frozen=True)
class NoEffect:
    """An exception whose removal sends exactly the same entries."""

    rule: int  # index into the ignore file's rules
    matched: int  # paths it matches
    first_unsent: int | None  # first entry it matches that is not sent, if any


@dataclass(frozen=True)
class RuleEffects:
    matches: tuple[int, ...]  # per rule: paths matched
    no_effect: tuple[NoEffect, ...]


def rule_effects(walker: Walker, record: WalkRecord, rules: int | None = None) -> RuleEffects:
    """The effects of the first `rules` of walker.patterns (default all), from `record` (a walk
    run with census=True). Patterns after them (the builder's own additions) stay in the walk."""
    assert record.hit_ids is not None
    automaton = walker.matcher.automaton
    patterns = walker.patterns[: len(walker.patterns) if rules is None else rules]
    matches = [0] * len(patterns)
    for hit_id, count in Counter(record.hit_ids).items():
        for index in automaton.hits_by_id[hit_id].members:
            if index < len(matches):
                matches[index] += count
    checked: list[int] = []
    for index, pattern in enumerate(patterns):
        if pattern.exclusion and matches[index]:
            if len(checked) == MAX_EXCEPTION_CHECKS:
                break
            checked.append(index)
    roots: dict[int, list[int]] = {k: [] for k in checked}
    for entry, new in zip(record.events, record.event_new, strict=True):
        for k in new:
            if k in roots:
                roots[k].append(entry)
    silent = [k for k in checked if walker.without_changes_nothing(record, k, roots[k])]
    first = _first_unsent(walker, record, silent)
    no_effect = tuple(NoEffect(k, matches[k], first.get(k)) for k in silent)
    return RuleEffects(tuple(matches), no_effect)


def _first_unsent(walker: Walker, record: WalkRecord, rules: list[int]) -> dict[int, int]:
    """For each rule, the first entry (tree order) it matches that is not sent."""
    if not rules:
        return {}
    assert record.hit_ids is not None
    wanted = set(rules)
    relevant = {h.id for h in walker.matcher.automaton.hits_by_id if wanted.intersection(h.members)}
    found: dict[int, int] = {}
    sent = record.sent
    for entry, hit_id in enumerate(record.hit_ids):
        if hit_id in relevant and not sent[entry]:
            for k in walker.matcher.automaton.hits_by_id[hit_id].members:
                if k in wanted and k not in found:
                    found[k] = entry
            if len(found) == len(wanted):
                break
    return found
