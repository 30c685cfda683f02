"""Which entries of the context reach the builder, for each builder's walk (pure).

Both builders walk the tree and ask `MatchesUsingParentResults` about each entry. They differ on
an excluded directory:
- legacy (docker CLI `TarWithOptions`): descends only when the text of some exception plus `/`
  starts with `dir/`; otherwise nothing inside is looked at, so `!**/keep.txt` cannot rescue it.
- BuildKit (fsutil): when every exception is a plain prefix (ignoring a trailing `/*` or `/**`) it
  does the same; as soon as one exception has a wildcard it descends everywhere.
The legacy CLI also appends `!Dockerfile` / `!.dockerignore` when they are excluded (they are
always sent), and the Engine 20.10 daemon then deletes them again before any COPY runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from trimdock.context.ignorefile import IgnoreFile
from trimdock.context.matcher import Flags, Matcher
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


def walk(
    tree: ContextTree,
    patterns: tuple[Pattern, ...],
    builder: Builder,
) -> tuple[list[bool], set[int]]:
    """Run one builder's walk; returns per-entry "sent" and the set of skipped directories."""
    matcher = Matcher(patterns)
    entries = tree.entries
    n = len(entries)
    sent = [False] * n
    skipped: set[int] = set()
    exceptions = [p for p in patterns if p.exclusion]
    if builder is Builder.LEGACY:
        prefixes: list[str] | None = [p.text + "/" for p in exceptions]
    elif all(not _has_wildcard(_without_trailing_glob(p.text)) for p in exceptions):
        prefixes = [_without_trailing_glob(p.text) + "/" for p in exceptions]
    else:
        prefixes = None  # BuildKit must look at every entry
    flags: list[Flags | None] = [None] * n
    i = 0
    while i < n:
        entry = entries[i]
        parent_flags = flags[entry.parent] if entry.parent >= 0 else None
        excluded, info = matcher.matches_using_parent(entry.path, parent_flags)
        if entry.kind is Kind.DIR:
            flags[i] = info
            if excluded:
                if prefixes is not None:
                    dir_slash = entry.path + "/"
                    if not any(p.startswith(dir_slash) for p in prefixes):
                        skipped.add(i)
                        i = entry.end
                        continue
                i += 1
                continue
            sent[i] = True
        elif not excluded and entry.kind is not Kind.SOCKET:
            sent[i] = True
        i += 1
    return sent, skipped


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


def select(
    tree: ContextTree,
    ignore: IgnoreFile,
    builder: Builder,
    dockerfile: str | None = "Dockerfile",
) -> Selection:
    """What the builder receives and what COPY/ADD can see, for `ignore` and `builder`.

    `dockerfile` is the Dockerfile's path relative to the context (None when it lies outside).
    """
    patterns = tuple(rule.pattern for rule in ignore.rules)
    always = [".dockerignore"] + ([dockerfile] if dockerfile else [])
    decide = Matcher(patterns)
    excluded_always = [name for name in always if patterns and decide.decide(name)]
    walk_patterns = patterns
    if builder is Builder.LEGACY:
        walk_patterns = patterns + tuple(compile_pattern(name, True) for name in excluded_always)
    sent, skipped = walk(tree, walk_patterns, builder)
    visible = _with_ancestors(tree, sent)
    if builder is Builder.LEGACY and patterns:
        # The 20.10 daemon re-reads .dockerignore with its older matcher and deletes these.
        old = Matcher(
            tuple(compile_pattern(p.text, p.exclusion, shortcuts=False) for p in patterns)
        )
        index = tree.index()
        for name in (".dockerignore", *([dockerfile] if dockerfile else [])):
            at = index.get(name)
            if at is not None and old.daemon20_decide(name):
                visible[at] = False
    return Selection(
        builder=builder,
        sent=tuple(_with_ancestors(tree, sent)),
        visible=tuple(visible),
        skipped_dirs=frozenset(skipped),
    )
