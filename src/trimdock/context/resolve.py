"""Which context entries each COPY/ADD source reaches (pure).

Mirrors the builder: a source is cleaned relative to the context root; with a wildcard it is
matched with Go's `filepath.Match` against every path the builder received (so `*.txt` matches
only top-level names); a matched or named directory brings its whole subtree, a named symlink is
followed inside the context. A source that is missing or excluded makes the build fail; so does
a wildcard matching nothing. URLs and git sources of ADD are not context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trimdock.context.gopath import BadPattern, go_clean, go_match, has_glob
from trimdock.context.instructions import ContextUse
from trimdock.context.tree import ContextTree, Kind

MAX_LINKS = 255  # FollowSymlinkInScope's limit


@dataclass(frozen=True)
class SourceResult:
    source: str
    entries: frozenset[int]  # every entry the source brings (directories included)
    error: str | None = None  # "missing", "no-match", "symlink-loop", "outside", "remote", ...


@dataclass(frozen=True)
class UseResolution:
    use: ContextUse
    sources: tuple[SourceResult, ...]

    @property
    def entries(self) -> frozenset[int]:
        out: set[int] = set()
        for result in self.sources:
            out |= result.entries
        return frozenset(out)

    @property
    def failed(self) -> tuple[SourceResult, ...]:
        return tuple(s for s in self.sources if s.error and s.error != "remote")


def is_remote(source: str) -> bool:
    return "://" in source or source.startswith("git@")


class _Lookup:
    def __init__(self, tree: ContextTree, visible: Sequence[bool]) -> None:
        self.tree = tree
        self.visible = visible
        self.index = {e.path: i for i, e in enumerate(tree.entries) if visible[i]}

    def follow(self, path: str) -> tuple[int | None, set[int], str | None]:
        """Resolve `path` with symlinks followed inside the context root."""
        links: set[int] = set()
        hops = 0
        parts = [p for p in path.split("/") if p and p != "."]
        done: list[str] = []
        while parts:
            part = parts.pop(0)
            if part == "..":
                if done:
                    done.pop()
                continue
            candidate = "/".join([*done, part])
            at = self.index.get(candidate)
            if at is None:
                return None, links, "missing"
            entry = self.tree.entries[at]
            if entry.kind is Kind.SYMLINK:
                hops += 1
                if hops > MAX_LINKS:
                    return None, links, "symlink-loop"
                links.add(at)
                target = entry.link or ""
                base = [] if target.startswith("/") else list(done)
                parts = [p for p in target.split("/") if p and p != "."] + parts
                done = base
                continue
            done.append(part)
        if not done:
            return -1, links, None
        return self.index["/".join(done)], links, None

    def subtree(self, at: int) -> set[int]:
        if at < 0:
            return {i for i in range(len(self.tree.entries)) if self.visible[i]}
        entry = self.tree.entries[at]
        return {i for i in range(at, entry.end) if self.visible[i]}


def _resolve_source(lookup: _Lookup, keyword: str, source: str) -> SourceResult:
    if keyword == "ADD" and is_remote(source):
        return SourceResult(source, frozenset(), "remote")
    cleaned = go_clean(source.lstrip("/") or ".")
    if cleaned.startswith(".."):
        cleaned = go_clean("/" + cleaned).lstrip("/") or "."
    if has_glob(cleaned):
        found: set[int] = set()
        depth = cleaned.count("/")
        entries = lookup.tree.entries
        try:
            for i, entry in enumerate(entries):
                if not lookup.visible[i]:
                    continue
                if "[" not in cleaned and entry.path.count("/") != depth:
                    continue
                if go_match(cleaned, entry.path):
                    at, links, error = lookup.follow(entry.path)
                    if at is not None and error is None:
                        found |= lookup.subtree(at) | links | {i}
        except BadPattern:
            return SourceResult(source, frozenset(), "bad-pattern")
        return SourceResult(source, frozenset(found), None if found else "no-match")
    at, links, error = lookup.follow(cleaned)
    if at is None:
        return SourceResult(source, frozenset(links), error)
    return SourceResult(source, frozenset(lookup.subtree(at) | links))


def resolve_uses(
    tree: ContextTree, visible: Sequence[bool], uses: Sequence[ContextUse]
) -> tuple[UseResolution, ...]:
    """Resolve every context-reading instruction against what the builder lets COPY see."""
    lookup = _Lookup(tree, visible)
    out: list[UseResolution] = []
    for use in uses:
        if not use.reads_context:
            out.append(UseResolution(use, ()))
            continue
        results = [_resolve_source(lookup, use.keyword, s) for s in use.sources]
        results += [SourceResult(s, frozenset(), "unresolved-variable") for s in use.unresolved]
        out.append(UseResolution(use, tuple(results)))
    return tuple(out)


def describe_error(error: str) -> str:
    return {
        "missing": "not in the context (missing, or excluded by the ignore file)",
        "no-match": "the wildcard matches nothing the builder receives",
        "symlink-loop": "a symlink loop",
        "bad-pattern": "a malformed wildcard",
        "unresolved-variable": "depends on a variable with no value here",
    }.get(error, error)
