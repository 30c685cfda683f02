"""What the explorer shows, computed from one analysis pass: every version of every file.

A *version* is one non-directory entry some layer shipped: where it shipped, its bytes, and the
layer that hid it (or none: it is in the final image). The overlay already knows both halves:
the final filesystem, and (with `record_hidden`) every entry a later entry hid. From them the
filesystem at any layer L follows without reading a layer again: a version is visible at L when
it shipped at or before L and was not hidden by L.

Marks at layer L: *added* (visible, shipped by L, nothing at the path before), *modified*
(shipped by L over an earlier version), *removed* (visible before L, hidden by L, nothing after),
and *wasted* (its bytes ship but a later layer hides them). Directories exist here only through
the files below them: empty directories are not shown.

Everything is pure and lazy: a directory's figures at a layer are computed once, on first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from trimdock.layers.analysis import LayerFigures, WasteAnalysis
from trimdock.layers.overlay import K_DIR, KIND_NAMES, HiddenFile, Overlay

VISIBLE = -1  # `Version.hidden_by` of a version in the final image


@dataclass(frozen=True, slots=True)
class Version:
    shipped_in: int
    bytes: int
    hidden_by: int  # VISIBLE, or the layer that hid it
    why: str  # "" or how it was hidden: deleted, opaque, replaced, overwritten, metadata
    type: str

    def visible_at(self, layer: int) -> bool:
        return self.shipped_in <= layer and (self.hidden_by == VISIBLE or self.hidden_by > layer)

    @property
    def wasted(self) -> bool:
        return self.hidden_by != VISIBLE


class Mark(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    NONE = ""


@dataclass(frozen=True, slots=True)
class FileState:
    """One path at one layer: the version shown and how this layer changed the path."""

    name: str
    path: str
    version: Version
    mark: Mark
    wasted: bool  # the shown version's bytes are hidden by a later layer

    @property
    def bytes(self) -> int:
        return self.version.bytes


@dataclass(slots=True)
class Directory:
    name: str
    path: str  # "" for the root, else "a/b"
    dirs: dict[str, Directory] = field(default_factory=dict)
    files: dict[str, list[Version]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DirFigures:
    bytes: int  # below the directory: visible (ALL), changed or removed (CHANGES), wasted (WASTE)
    files: int
    changed: int  # paths this layer added, modified or removed below it
    wasted: int  # bytes below it visible at this layer that a later layer hides


class View(StrEnum):
    ALL = "all"  # the filesystem at the layer
    CHANGES = "changes"  # only what the layer added, modified or removed
    WASTE = "waste"  # every wasted version shipped at or before the layer


@dataclass(frozen=True, slots=True)
class Layer:
    index: int
    instruction: str
    figures: LayerFigures


class ExploreModel:
    """The versions of every path, and per-layer, per-view directory figures on demand."""

    def __init__(self, reference: str, layers: tuple[Layer, ...], root: Directory) -> None:
        self.reference = reference
        self.layers = layers
        self.root = root
        self._figures: dict[tuple[int, View, str], dict[int, DirFigures]] = {}

    # -- building -----------------------------------------------------------------------------

    @classmethod
    def from_overlay(
        cls,
        reference: str,
        instructions: tuple[str, ...],
        analysis: WasteAnalysis,
        overlay: Overlay,
    ) -> ExploreModel:
        """From an overlay applied with `record_hidden=True` and its analysis."""
        root = Directory("", "")
        seen_inodes: set[int] = set()
        for path, node in overlay.walk():
            if node.e_kind == K_DIR:
                continue
            nbytes = node.e_nbytes
            if node.e_inode is not None:  # hard-linked bytes count once, on the first name
                key = id(node.e_inode)
                nbytes = 0 if key in seen_inodes else node.e_inode.nbytes
                seen_inodes.add(key)
            kind = KIND_NAMES.get(node.e_kind, "file")
            _add(root, path, Version(node.e_layer, nbytes, VISIBLE, "", kind))
        for hidden in overlay.hidden_files:
            _add(root, hidden.path, _hidden_version(hidden))
        for directory in _directories(root):
            for versions in directory.files.values():
                versions.sort(key=lambda v: (v.shipped_in, v.hidden_by == VISIBLE, v.hidden_by))
        layers = tuple(
            Layer(figures.index, instructions[figures.index], figures)
            for figures in analysis.layers
        )
        return cls(reference, layers, root)

    # -- reading ------------------------------------------------------------------------------

    def state(self, name: str, path: str, versions: list[Version], layer: int) -> FileState | None:
        """The path at `layer` in the ALL/CHANGES views (None: not there and not removed)."""
        current = before = None
        for version in versions:
            if version.visible_at(layer):
                current = version
            elif version.visible_at(layer - 1):
                before = version
        if current is not None:
            if current.shipped_in == layer:
                earlier = any(v is not current and v.visible_at(layer - 1) for v in versions)
                mark = Mark.MODIFIED if earlier else Mark.ADDED
            else:
                mark = Mark.NONE
            return FileState(name, path, current, mark, current.wasted)
        if before is not None and before.hidden_by == layer:
            return FileState(name, path, before, Mark.REMOVED, True)
        return None

    def files(
        self, directory: Directory, layer: int, view: View, search: str = ""
    ) -> Iterator[FileState]:
        """The files directly in `directory` that `view` shows at `layer`."""
        needle = search.lower()
        for name, versions in directory.files.items():
            path = f"{directory.path}/{name}" if directory.path else name
            if needle and needle not in path.lower():
                continue
            if view is View.WASTE:
                for version in versions:
                    if version.wasted and version.shipped_in <= layer:
                        yield FileState(name, path, version, Mark.NONE, True)
                continue
            found = self.state(name, path, versions, layer)
            if found is None or (view is View.CHANGES and found.mark is Mark.NONE):
                continue
            yield found

    def figures(self, directory: Directory, layer: int, view: View, search: str = "") -> DirFigures:
        """The figures of `directory` (computed for every directory of the view at once)."""
        key = (layer, view, search.lower())
        table = self._figures.get(key)
        if table is None:
            table = self._figures[key] = self._compute(layer, view, search)
        return table.get(id(directory), DirFigures(0, 0, 0, 0))

    def _compute(self, layer: int, view: View, search: str) -> dict[int, DirFigures]:
        table: dict[int, DirFigures] = {}
        for directory in reversed(list(_directories(self.root))):
            size = files = changed = wasted = 0
            for state in self.files(directory, layer, view, search):
                if state.mark is not Mark.REMOVED or view is not View.ALL:
                    size += state.bytes  # the changes view counts the bytes removed too
                files += 1
                changed += state.mark is not Mark.NONE
                wasted += state.bytes if state.wasted and state.mark is not Mark.REMOVED else 0
            for child in directory.dirs.values():
                sub = table.get(id(child))
                if sub is None:
                    continue
                size += sub.bytes
                files += sub.files
                changed += sub.changed
                wasted += sub.wasted
            if files:
                table[id(directory)] = DirFigures(size, files, changed, wasted)
        return table

    def subdirectories(
        self, directory: Directory, layer: int, view: View, search: str = ""
    ) -> Iterator[tuple[Directory, DirFigures]]:
        """The subdirectories with something to show in `view` at `layer`."""
        for child in directory.dirs.values():
            figures = self.figures(child, layer, view, search)
            if figures.files:
                yield child, figures


def _hidden_version(hidden: HiddenFile) -> Version:
    return Version(
        hidden.shipped_in, hidden.bytes, hidden.hidden_by, hidden.kind, hidden.entry_type
    )


def _add(root: Directory, path: str, version: Version) -> None:
    parent_path, _, name = path.rpartition("/")
    directory = root
    if parent_path:
        prefix = ""
        for part in parent_path.split("/"):
            prefix = f"{prefix}/{part}" if prefix else part
            child = directory.dirs.get(part)
            if child is None:
                child = directory.dirs[part] = Directory(part, prefix)
            directory = child
    directory.files.setdefault(name, []).append(version)


def _directories(root: Directory) -> Iterator[Directory]:
    """Every directory, parents before children (iterative: paths can be very deep)."""
    stack = [root]
    while stack:
        directory = stack.pop()
        yield directory
        stack.extend(directory.dirs.values())
