"""What `lint --context` tells the rules about a build context: measured on what the builder is
sent (`.dockerignore` applied, one scan), not on the directory as it lies on disk."""

from __future__ import annotations

from pathlib import Path

from trimdock.context.analysis import Analysis
from trimdock.context.service import load_tree, relative_dockerfile
from trimdock.context.tree import ContextTree, Kind
from trimdock.context.walk import Builder, select

# A top-level entry the whole-context COPY rule names as large (its evidence).
LARGE_ENTRY_BYTES = 1024 * 1024


Facts = tuple[bool, tuple[tuple[str, int], ...]]  # (an ignore file applies, large entries)


def sent_top_entries(tree: ContextTree, sent: tuple[bool, ...]) -> tuple[tuple[str, int], ...]:
    """(top-level name, bytes sent below it), largest first, for entries of at least 1 MiB."""
    totals: dict[str, int] = {}
    for entry, included in zip(tree.entries, sent, strict=True):
        if included and entry.kind is Kind.FILE:
            top = entry.path.split("/", 1)[0]
            totals[top] = totals.get(top, 0) + entry.size
    large = [(name, size) for name, size in totals.items() if size >= LARGE_ENTRY_BYTES]
    return tuple(sorted(large, key=lambda item: (-item[1], item[0])))


def facts_of(analysis: Analysis) -> Facts:
    """Whether an ignore file applies, and the large top-level entries the builder receives."""
    return analysis.ignore.path is not None, sent_top_entries(
        analysis.tree, analysis.selection.sent
    )


def context_facts(directory: Path, dockerfile: Path) -> Facts:
    """The same facts without a readable Dockerfile (stdin, or one the lint reports)."""
    ignore, tree = load_tree(directory, dockerfile, Builder.BUILDKIT)
    relative = relative_dockerfile(dockerfile, directory)
    selection = select(tree, ignore, Builder.BUILDKIT, relative)
    return ignore.path is not None, sent_top_entries(tree, selection.sent)
