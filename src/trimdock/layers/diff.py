"""`trimdock diff A B`, the pure part: what changed between two images, in bytes.

Each side is summarised first (`DiffSide`: layers, visible files, reclaim report, packages);
the comparison here reads nothing. Definitions:

* layers are **shared** when both images have a layer with the same DiffID (counted once per
  occurrence), else **removed** (only in A) or **added** (only in B);
* a visible file is **added** / **removed** when only B / only A has it, **changed** when both
  have it and it comes from different layer content (DiffID) with a different size, mode or
  mtime (file bodies are not read: same size, mode and mtime from different layers count as
  unchanged);
* per directory (the first `depth` components of the parent), the bytes added, removed and
  the size change of changed files; their sum is the change of visible bytes, and with the
  change of wasted bytes it makes the total size change exactly.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from trimdock.layers.reclaim.categories import CATEGORIES
from trimdock.layers.reclaim.classify import Achievable, ReclaimReport

DEFAULT_DEPTH = 3


class FileState(NamedTuple):
    """A visible file: its bytes, the DiffID of the layer it comes from, mode and mtime."""

    bytes: int
    source: str
    meta: int


class PackageState(NamedTuple):
    version: str
    bytes: int  # visible bytes of the files it owns


@dataclass(frozen=True, slots=True)
class LayerInfo:
    diff_id: str
    size: int
    instruction: str


@dataclass(frozen=True)
class DiffSide:
    """One image, summarised for the comparison."""

    reference: str
    size: int
    wasted: int
    layers: tuple[LayerInfo, ...]
    files: Mapping[str, FileState]
    reclaim: ReclaimReport
    achievable: Achievable
    packages: Mapping[str, PackageState] | None  # None: no package database


@dataclass(frozen=True, slots=True)
class SideFigures:
    reference: str
    size: int
    wasted: int
    reclaimable_certain: int
    reclaimable_likely: int
    achievable: int
    achievable_low: int
    layers: int
    files: int


@dataclass(frozen=True, slots=True)
class LayerChange:
    status: str  # shared, removed, added
    diff_id: str
    size: int
    index_a: int | None
    index_b: int | None
    instruction: str


@dataclass(frozen=True, slots=True)
class CategoryChange:
    category: str
    label: str
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True, slots=True)
class DirectoryChange:
    directory: str
    added_bytes: int
    removed_bytes: int
    changed_delta: int  # size change of the files changed in place
    added: int
    removed: int
    changed: int

    @property
    def delta(self) -> int:
        return self.added_bytes - self.removed_bytes + self.changed_delta


@dataclass(frozen=True, slots=True)
class PackageChange:
    name: str
    status: str  # added, removed, changed
    version_a: str | None
    version_b: str | None
    bytes_a: int
    bytes_b: int

    @property
    def delta(self) -> int:
        return self.bytes_b - self.bytes_a


@dataclass(frozen=True, slots=True)
class FileTotals:
    added: int
    added_bytes: int
    removed: int
    removed_bytes: int
    changed: int
    changed_delta: int


@dataclass(frozen=True, slots=True)
class ImageDiff:
    a: SideFigures
    b: SideFigures
    layers: tuple[LayerChange, ...]  # A's layers in order (shared/removed), then B's added
    categories: tuple[CategoryChange, ...]  # biggest absolute change first
    files: FileTotals
    directories: tuple[DirectoryChange, ...]  # biggest absolute change first
    packages: tuple[PackageChange, ...] | None  # None: neither image has a package database
    depth: int
    recommends_dropped: tuple[str, ...] = ()  # A's recommends-only packages B does not have

    @property
    def delta(self) -> int:
        return self.b.size - self.a.size


def _figures(side: DiffSide) -> SideFigures:
    return SideFigures(
        reference=side.reference,
        size=side.size,
        wasted=side.wasted,
        reclaimable_certain=side.reclaim.certain,
        reclaimable_likely=side.reclaim.likely,
        achievable=side.achievable.estimate,
        achievable_low=side.achievable.low,
        layers=len(side.layers),
        files=len(side.files),
    )


def directory_of(path: str, depth: int) -> str:
    """The first `depth` components of a file's parent directory (`""` for the root)."""
    parent = path.rpartition("/")[0]
    if not parent:
        return ""
    return "/".join(parent.split("/")[:depth])


def _layers(a: DiffSide, b: DiffSide) -> tuple[LayerChange, ...]:
    remaining = Counter(layer.diff_id for layer in b.layers)
    b_index: dict[str, list[int]] = defaultdict(list)
    for i, layer in enumerate(b.layers):
        b_index[layer.diff_id].append(i)
    changes: list[LayerChange] = []
    for i, layer in enumerate(a.layers):
        if remaining[layer.diff_id] > 0:
            remaining[layer.diff_id] -= 1
            j = b_index[layer.diff_id].pop(0)
            changes.append(
                LayerChange("shared", layer.diff_id, layer.size, i, j, layer.instruction)
            )
        else:
            changes.append(
                LayerChange("removed", layer.diff_id, layer.size, i, None, layer.instruction)
            )
    for diff_id, indexes in b_index.items():
        for j in indexes:
            layer = b.layers[j]
            changes.append(LayerChange("added", diff_id, layer.size, None, j, layer.instruction))
    return tuple(changes)


def _categories(a: DiffSide, b: DiffSide) -> tuple[CategoryChange, ...]:
    before = {t.category: t.bytes for t in a.reclaim.categories()}
    after = {t.category: t.bytes for t in b.reclaim.categories()}
    changes = [
        CategoryChange(cat, CATEGORIES[cat].label, before.get(cat, 0), after.get(cat, 0))
        for cat in sorted(before.keys() | after.keys())
    ]
    changes.sort(key=lambda c: (-abs(c.delta), c.category))
    return tuple(changes)


def _files(a: DiffSide, b: DiffSide, depth: int) -> tuple[FileTotals, tuple[DirectoryChange, ...]]:
    # directory -> [added_bytes, removed_bytes, changed_delta, added, removed, changed]
    dirs: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for path, state in b.files.items():
        old = a.files.get(path)
        if old is None:
            row = dirs[directory_of(path, depth)]
            row[0] += state.bytes
            row[3] += 1
        elif old.source != state.source and (old.bytes != state.bytes or old.meta != state.meta):
            row = dirs[directory_of(path, depth)]
            row[2] += state.bytes - old.bytes
            row[5] += 1
    for path, state in a.files.items():
        if path not in b.files:
            row = dirs[directory_of(path, depth)]
            row[1] += state.bytes
            row[4] += 1
    directories = [DirectoryChange(name, *row) for name, row in dirs.items()]
    directories.sort(key=lambda d: (-abs(d.delta), -(d.added_bytes + d.removed_bytes), d.directory))
    totals = FileTotals(
        added=sum(d.added for d in directories),
        added_bytes=sum(d.added_bytes for d in directories),
        removed=sum(d.removed for d in directories),
        removed_bytes=sum(d.removed_bytes for d in directories),
        changed=sum(d.changed for d in directories),
        changed_delta=sum(d.changed_delta for d in directories),
    )
    return totals, tuple(directories)


def _packages(a: DiffSide, b: DiffSide) -> tuple[PackageChange, ...] | None:
    if a.packages is None and b.packages is None:
        return None
    before = a.packages or {}
    after = b.packages or {}
    changes: list[PackageChange] = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old is None and new is not None:
            changes.append(PackageChange(name, "added", None, new.version, 0, new.bytes))
        elif new is None and old is not None:
            changes.append(PackageChange(name, "removed", old.version, None, old.bytes, 0))
        elif old is not None and new is not None and old.version != new.version:
            changes.append(
                PackageChange(name, "changed", old.version, new.version, old.bytes, new.bytes)
            )
    changes.sort(key=lambda p: (-abs(p.delta), p.name))
    return tuple(changes)


def diff_images(a: DiffSide, b: DiffSide, *, depth: int = DEFAULT_DEPTH) -> ImageDiff:
    totals, directories = _files(a, b, depth)
    return ImageDiff(
        a=_figures(a),
        b=_figures(b),
        layers=_layers(a, b),
        categories=_categories(a, b),
        files=totals,
        directories=directories,
        packages=_packages(a, b),
        depth=depth,
        recommends_dropped=tuple(
            p.name for p in a.reclaim.recommends if b.packages is None or p.name not in b.packages
        ),
    )


def summary_parts(diff: ImageDiff, limit: int = 3) -> list[tuple[str, int]]:
    """The biggest explained changes, for the headline: the change of hidden (wasted) bytes,
    category changes (recommends named by package), then "other" for the rest of the size
    change."""
    parts: list[tuple[str, int]] = []
    explained = 0
    wasted = diff.b.wasted - diff.a.wasted
    if wasted:
        parts.append(("wasted (hidden) bytes", wasted))
        explained += wasted
        limit += 1
    for change in diff.categories:
        if len(parts) >= limit or change.delta == 0:
            break
        label = change.label
        if change.category == "recommends":
            label = "recommended packages"
            names = list(diff.recommends_dropped[:2])
            if names and change.delta < 0:
                label += f" ({', '.join(names)})"
        parts.append((label, change.delta))
        explained += change.delta
    rest = diff.delta - explained
    if rest and parts:
        parts.append(("other", rest))
    return parts
