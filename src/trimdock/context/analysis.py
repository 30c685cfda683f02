"""From a scanned tree, an ignore file and the Dockerfile to the numbers a user acts on (pure)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate

from trimdock.context.effects import RuleEffects, rule_effects
from trimdock.context.ignorefile import IgnoreFile
from trimdock.context.instructions import BuildFile, ContextUse
from trimdock.context.resolve import UseResolution, resolve_uses
from trimdock.context.tree import ContextTree, Kind, Problem
from trimdock.context.walk import Builder, Selection, select_walked

TOP = 10


@dataclass(frozen=True)
class Totals:
    """Non-directory entries (files, links, ...) and the bytes of the regular files among them."""

    files: int
    bytes: int

    def to_json(self) -> dict[str, int]:
        return {"files": self.files, "bytes": self.bytes}


@dataclass(frozen=True)
class PathSize:
    path: str
    bytes: int
    files: int
    is_dir: bool = False


@dataclass(frozen=True)
class UseSummary:
    """One COPY/ADD (or RUN bind mount) and what it takes from the context."""

    keyword: str
    line: int
    stage: int
    stage_name: str | None
    final_stage: bool
    text: str
    from_stage: str | None
    files: int
    bytes: int
    broad: bool  # copies the whole context or a whole directory
    errors: tuple[tuple[str, str], ...]  # (source, error code)


@dataclass(frozen=True)
class Analysis:
    """Everything derived from one run; the report, findings and suggestion read from it."""

    tree: ContextTree
    ignore: IgnoreFile
    build: BuildFile
    builder: Builder
    dockerfile: str | None  # relative to the context; None when outside it
    selection: Selection
    resolutions: tuple[UseResolution, ...]
    used: frozenset[int]
    effects: RuleEffects  # what each ignore rule matches and changes

    @cached_property
    def unused(self) -> frozenset[int]:
        """Sent, visible entries no instruction uses (computed once for report and findings)."""
        return frozenset(unused_entries(self))

    @cached_property
    def unused_groups(self) -> tuple[PathSize, ...]:
        """`unused` as maximal directories or files, biggest first."""
        visible = set(flagged(self.selection.visible))
        groups = maximal_groups(self.tree, self.unused, visible)
        groups.sort(key=lambda r: (-r.bytes, r.path))
        return tuple(groups)


def analyze(
    tree: ContextTree,
    ignore: IgnoreFile,
    build: BuildFile,
    builder: Builder,
    dockerfile: str | None,
) -> Analysis:
    selection, walker, record = select_walked(tree, ignore, builder, dockerfile, census=True)
    effects = rule_effects(walker, record, len(ignore.rules))
    del record  # the walk's working data: not kept with the analysis
    resolutions = resolve_uses(tree, selection.visible, build.uses)
    used: set[int] = set()
    for resolution in resolutions:
        used |= resolution.entries
    return Analysis(
        tree, ignore, build, builder, dockerfile, selection, resolutions, frozenset(used), effects
    )


def totals(tree: ContextTree, chosen: Iterable[int]) -> Totals:
    files = 0
    size = 0
    entries = tree.entries
    for i in chosen:
        entry = entries[i]
        if entry.kind is Kind.DIR:
            continue
        files += 1
        size += entry.size
    return Totals(files, size)


def flagged(flags: Sequence[bool]) -> list[int]:
    return [i for i, on in enumerate(flags) if on]


def _dir_sizes(tree: ContextTree, chosen: AbstractSet[int]) -> tuple[list[int], list[int]]:
    """Bytes and files of `chosen` inside each directory (0 for non-directories).

    Entries are in pre-order, so a directory's subtree is the slice [dir, end): running sums
    over the entries give every directory's totals with two subtractions.
    """
    entries = tree.entries
    n = len(entries)
    size = [0] * n
    count = [0] * n
    for i in chosen:
        entry = entries[i]
        if entry.kind is not Kind.DIR:
            size[i] = entry.size
            count[i] = 1
    size_sums = [0, *accumulate(size)]
    count_sums = [0, *accumulate(count)]
    dir_size = [0] * n
    dir_count = [0] * n
    for i in tree.directories:
        end = entries[i].end
        dir_size[i] = size_sums[end] - size_sums[i]
        dir_count[i] = count_sums[end] - count_sums[i]
    return dir_size, dir_count


def biggest_dirs(tree: ContextTree, chosen: set[int], depth: int = 2) -> tuple[PathSize, ...]:
    size, count = _dir_sizes(tree, chosen)
    rows = [
        PathSize(e.path, size[i], count[i], True)
        for i, e in enumerate(tree.entries)
        if e.kind is Kind.DIR and count[i] and e.path.count("/") < depth
    ]
    rows.sort(key=lambda r: (-r.bytes, r.path))
    return tuple(rows[:TOP])


def biggest_files(tree: ContextTree, chosen: Iterable[int]) -> tuple[PathSize, ...]:
    entries = tree.entries
    files = (i for i in chosen if entries[i].kind is not Kind.DIR)
    top = heapq.nsmallest(TOP, files, key=lambda i: (-entries[i].size, entries[i].path))
    return tuple(PathSize(entries[i].path, entries[i].size, 1) for i in top)


def maximal_groups(
    tree: ContextTree, chosen: AbstractSet[int], present: AbstractSet[int]
) -> list[PathSize]:
    """Directories all of whose present content is in `chosen`, else single chosen entries."""
    entries = tree.entries
    size, count = _dir_sizes(tree, chosen)
    _, present_count = _dir_sizes(tree, present)
    out: list[PathSize] = []
    i = 0
    while i < len(entries):
        entry = entries[i]
        if entry.kind is Kind.DIR:
            if count[i] and count[i] == present_count[i]:
                out.append(PathSize(entry.path, size[i], count[i], True))
                i = entry.end
                continue
        elif i in chosen:
            out.append(PathSize(entry.path, entry.size, 1))
        i += 1
    return out


def unused_entries(analysis: Analysis) -> set[int]:
    visible = analysis.selection.visible
    return {
        i
        for i, e in enumerate(analysis.tree.entries)
        if visible[i] and e.kind is not Kind.DIR and i not in analysis.used
    }


def _is_broad(use: ContextUse, resolution: UseResolution, tree: ContextTree) -> bool:
    for result in resolution.sources:
        if result.source.strip("/") in ("", ".", "./"):
            return True
        if any(tree.entries[i].kind is Kind.DIR for i in result.entries):
            return True
    return False


def use_summaries(analysis: Analysis) -> tuple[UseSummary, ...]:
    stages = analysis.build.stages
    last = len(stages) - 1
    rows: list[UseSummary] = []
    for resolution in analysis.resolutions:
        use = resolution.use
        got = totals(analysis.tree, resolution.entries)
        rows.append(
            UseSummary(
                keyword=use.keyword,
                line=use.line,
                stage=use.stage,
                stage_name=stages[use.stage].name if use.stage < len(stages) else None,
                final_stage=use.stage == last,
                text=use.text,
                from_stage=use.from_stage,
                files=got.files,
                bytes=got.bytes,
                broad=use.reads_context and _is_broad(use, resolution, analysis.tree),
                errors=tuple((s.source, s.error) for s in resolution.failed if s.error),
            )
        )
    return tuple(rows)


def final_broad_files(analysis: Analysis) -> tuple[PathSize, ...]:
    """Largest files the final stage gets through a whole-context or whole-directory COPY."""
    last = len(analysis.build.stages) - 1
    chosen: set[int] = set()
    for resolution in analysis.resolutions:
        use = resolution.use
        if (
            use.stage == last
            and use.keyword != "RUN"
            and use.reads_context
            and _is_broad(use, resolution, analysis.tree)
        ):
            chosen |= resolution.entries
    return biggest_files(analysis.tree, chosen)


@dataclass(frozen=True)
class ContextReport:
    context: str
    dockerfile: str
    ignore_file: str | None
    builder: Builder
    total: Totals
    sent: Totals
    excluded: Totals
    used: Totals
    unused: Totals
    biggest_dirs: tuple[PathSize, ...]
    biggest_files: tuple[PathSize, ...]
    biggest_unused: tuple[PathSize, ...]
    final_broad: tuple[PathSize, ...]
    uses: tuple[UseSummary, ...]
    problems: tuple[Problem, ...]


def summarize(analysis: Analysis, dockerfile_label: str) -> ContextReport:
    tree = analysis.tree
    everything = [i for i, e in enumerate(tree.entries) if e.kind is not Kind.DIR]
    sent = [i for i in flagged(analysis.selection.sent) if tree.entries[i].kind is not Kind.DIR]
    sent_set = set(sent)
    excluded = [i for i in everything if i not in sent_set]
    unused = analysis.unused
    groups = analysis.unused_groups
    return ContextReport(
        context=tree.root,
        dockerfile=dockerfile_label,
        ignore_file=analysis.ignore.path,
        builder=analysis.builder,
        total=totals(tree, everything),
        sent=totals(tree, sent),
        excluded=totals(tree, excluded),
        used=totals(tree, analysis.used),
        unused=totals(tree, unused),
        biggest_dirs=biggest_dirs(tree, sent_set),
        biggest_files=biggest_files(tree, sent),
        biggest_unused=tuple(groups[:TOP]),
        final_broad=final_broad_files(analysis),
        uses=use_summaries(analysis),
        problems=tree.problems,
    )
