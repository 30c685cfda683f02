"""What every layer costs and wastes: exact figures with blame, and dive's figures beside them.

Definitions (also in docs/layers.md):

* a layer's **size** is the bytes it ships: regular-file contents plus symlink target lengths,
  hard links once; the engine computes a layer's size the same way (`docker history`).
* a byte is **wasted** when it ships in some layer but is not visible in the final filesystem:
  deleted (a whiteout of the file or of any directory above it), hidden by an opaque directory,
  under a directory replaced by a file, or overwritten by a later entry (a chmod/chown/touch
  copies the whole file). Hard-linked bytes are wasted only when every name is gone.
  So `size == visible_size + wasted`, exactly.
* **efficiency** is `visible_size / size` (1.0 for an empty image).
* the **dive** figures are dive 0.13's, reproduced exactly (see `DiveFigures`).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trimdock.image.model import LayerEntry
from trimdock.layers.overlay import HiddenFile, LayerCounter, Overlay


@dataclass(frozen=True, slots=True)
class LayerFigures:
    """One layer: what it ships, what it changes, and how much of it is wasted."""

    index: int
    size: int
    entries: int
    whiteouts: int
    files_added: int
    files_modified: int
    files_deleted: int
    wasted: int  # bytes of this layer not visible in the final filesystem
    hidden: int  # bytes of this or earlier layers this layer made invisible
    dive_size: int  # dive's layer size: the sum of regular-file sizes in the tar


@dataclass(frozen=True, slots=True)
class WastedPath:
    """Bytes shipped under `path` by one layer and hidden by another, for one reason.

    `path` is the path that was hidden: the deleted directory for everything under it, the
    opaque directory for what it hid, the file itself for an overwrite.
    """

    path: str
    kind: str
    bytes: int
    files: int
    shipped_in: int
    hidden_by: int


@dataclass(frozen=True, slots=True)
class DiveFile:
    """A path dive reports as inefficient: seen in `count` layers, `bytes` in total."""

    path: str
    count: int
    bytes: int


@dataclass(frozen=True, slots=True)
class DiveFigures:
    """dive 0.13's image metrics, computed as dive computes them.

    For every path that is a *leaf* of some layer's tree (files, symlinks, empty directories,
    whiteouts), dive records the size seen in each such layer: a file's tar size, a whiteout's
    size is 0, or the total size below it when it removes an explicit directory. Opaque
    directories are ignored.

    * `efficiency` = sum over paths of the smallest size seen / sum of all sizes seen.
    * `wasted_bytes` = sum, over paths seen in two or more layers, of *all* their sizes
      (so the surviving copy of a changed file counts too).
    * `user_wasted_percent` = 100 * wasted_bytes / (sum of layer sizes except layer 0), where a
      layer's size is the sum of its regular files' tar sizes; None when that sum is zero.
    """

    efficiency: float
    wasted_bytes: int
    user_wasted_percent: float | None
    size: int
    user_size: int
    inefficient_count: int
    inefficient_files: tuple[DiveFile, ...]


@dataclass(frozen=True, slots=True)
class WasteAnalysis:
    """The figures of a whole image."""

    layers: tuple[LayerFigures, ...]
    size: int
    visible_size: int
    wasted: int
    visible_files: int
    wasted_paths: tuple[WastedPath, ...]  # largest first
    wasted_path_count: int
    dive: DiveFigures
    hidden_files: tuple[HiddenFile, ...] = ()

    @property
    def efficiency(self) -> float:
        return self.visible_size / self.size if self.size else 1.0

    @property
    def wasted_percent(self) -> float:
        return 100.0 * self.wasted / self.size if self.size else 0.0


def analyze_layers(
    layers: Iterable[Iterable[LayerEntry]],
    *,
    top: int | None = None,
    record_hidden: bool = False,
    source: str | None = None,
    overlay: Overlay | None = None,
) -> WasteAnalysis:
    """Apply each layer's entries in order and account for every byte.

    `top` limits the wasted paths and dive's inefficient files kept (None: all);
    `record_hidden` keeps one `HiddenFile` per hidden non-directory entry. `overlay` (a new
    one) is applied to instead of a private one, for callers that also picture the filesystem.
    """
    if overlay is None:
        overlay = Overlay(record_hidden=record_hidden, source=source)
    for entries in layers:
        overlay.apply(entries)
    return summarize(overlay, top=top)


def summarize(overlay: Overlay, *, top: int | None = None) -> WasteAnalysis:
    """Freeze an overlay's accumulated figures, then release the bookkeeping only this reads
    (`Overlay.release_bookkeeping`): an overlay is summarized once, after its last layer."""
    if overlay.released:
        raise RuntimeError("an overlay is summarized once")
    layers = tuple(
        _layer_figures(counter, overlay.wasted_by_layer[counter.index])
        for counter in overlay.layers
    )
    size = sum(layer.size for layer in layers)
    wasted = sum(overlay.wasted_by_layer)
    groups = [
        (-values[0], path, shipped, hidden_by, kind, values[1])
        for (path, shipped, hidden_by, kind), values in overlay.groups.items()
        if values[0] > 0
    ]
    kept = heapq.nsmallest(top, groups) if top else sorted(groups)
    wasted_paths = [
        WastedPath(path, kind, -negative, files, shipped, hidden_by)
        for negative, path, shipped, hidden_by, kind, files in kept
    ]
    analysis = WasteAnalysis(
        layers=layers,
        size=size,
        visible_size=size - wasted,
        wasted=wasted,
        visible_files=overlay.visible_files,
        wasted_paths=tuple(wasted_paths),
        wasted_path_count=len(groups),
        dive=_dive_figures(overlay, layers, top),
        hidden_files=tuple(overlay.hidden_files),
    )
    del groups, kept, wasted_paths
    overlay.release_bookkeeping()
    return analysis


def _layer_figures(counter: LayerCounter, wasted: int) -> LayerFigures:
    return LayerFigures(
        index=counter.index,
        size=counter.size,
        entries=counter.entries,
        whiteouts=counter.whiteouts,
        files_added=counter.files_added,
        files_modified=counter.files_modified,
        files_deleted=counter.files_deleted,
        wasted=wasted,
        hidden=counter.hidden,
        dive_size=counter.dive_size,
    )


def _dive_figures(overlay: Overlay, layers: Sequence[LayerFigures], top: int | None) -> DiveFigures:
    size = sum(layer.dive_size for layer in layers)
    user_size = size - (layers[0].dive_size if layers else 0)
    files = overlay.dive_inefficient()

    def order(item: tuple[str, int, int]) -> tuple[int, str]:
        return (-item[2], item[0])

    kept = heapq.nsmallest(top, files, key=order) if top else sorted(files, key=order)
    cum = overlay.f_sum_cum
    return DiveFigures(
        efficiency=overlay.f_sum_min / cum if cum else 1.0,
        wasted_bytes=overlay.f_wasted,
        user_wasted_percent=100.0 * overlay.f_wasted / user_size if user_size else None,
        size=size,
        user_size=user_size,
        inefficient_count=len(overlay.f_repeated),
        inefficient_files=tuple(DiveFile(*item) for item in kept),
    )
