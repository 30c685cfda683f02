"""What the explorer shows, computed from one analysis pass: every version of every file.

A *version* is one non-directory entry some layer shipped: where it shipped, its bytes, and the
layer that hid it (or none: it is in the final image). The overlay already knows both halves:
the final filesystem, and (with `record_hidden`) every entry a later entry hid. From them the
filesystem at any layer L follows without reading a layer again: a version is visible at L when
it shipped at or before L and was not hidden by L.

Marks at layer L: *added* (visible, shipped by L, nothing at the path before), *modified*
(shipped by L over an earlier version), *removed* (visible before L, hidden by L, nothing after),
and *wasted* (its bytes ship but a later layer hides them). A directory of the final filesystem
with nothing to show at a layer is shown as empty from the layer of its entry on (the last layer
that shipped it: an earlier one may have made it too); directories a layer removed are known only
through the files they held.

Hard links: the bytes of an inode are carried by exactly one of its names, the one that stays
visible longest (the overlay charges them to the last name hidden, else to the first final
name), and every name of an inode ships in the same layer; so at every layer where any name
is visible the carrier is too, and the figures count the bytes exactly once.

Everything is pure and lazy: a directory's figures at a layer are computed once, on first use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from trimdock.layers.analysis import LayerFigures, WasteAnalysis
from trimdock.layers.overlay import K_DIR, KIND_NAMES, HiddenFile, Overlay
from trimdock.layers.reclaim.classify import ReclaimReport

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
    category: str = ""  # the reclaim category of a final file the reclaim analysis counts

    @property
    def bytes(self) -> int:
        return self.version.bytes


@dataclass(slots=True)
class Directory:
    name: str
    path: str  # "" for the root, else "a/b"
    dirs: dict[str, Directory] = field(default_factory=dict)
    files: dict[str, list[Version]] = field(default_factory=dict)
    since: int = -1  # layer of its own entry in the final filesystem (-1: none)
    # Set by `ExploreModel.from_overlay` for the figures' hot loop: the files that have one
    # version, visible in the final image (most of them), summed by the layer that shipped
    # them as (layer, bytes, files); and the other files, which need the full rules.
    plain: tuple[tuple[int, int, int], ...] = ()
    mixed: tuple[tuple[str, list[Version]], ...] = ()
    # Set by `ExploreModel.attach_reclaim`: its files the reclaim analysis counts, with their
    # category (the version is the one in the final image).
    reclaim: tuple[tuple[str, str, Version], ...] = ()


@dataclass(frozen=True, slots=True)
class DirFigures:
    bytes: int  # below the directory: visible (ALL), changed or removed (CHANGES), wasted (WASTE)
    files: int  # files those bytes are in (ALL: visible ones, without those the layer removed)
    changed: int  # paths this layer added, modified or removed below it
    wasted: int  # bytes below it visible at this layer that a later layer hides
    shown: int  # lines the view shows below it (ALL: removed paths included; empty directories)
    empty: int = 0  # empty directories among those lines
    bare: bool = False  # the directory itself is empty at this layer (its one line is itself)


class View(StrEnum):
    ALL = "all"  # the filesystem at the layer
    CHANGES = "changes"  # only what the layer added, modified or removed
    WASTE = "waste"  # every wasted version shipped at or before the layer
    RECLAIM = "reclaim"  # final files a better build would not ship, shipped by the layer or before


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
        self._figures: dict[tuple[int, View, str, str], dict[int, DirFigures]] = {}
        self._order: list[Directory] | None = None  # children before parents
        self.reclaim: ReclaimReport | None = None
        self.categories: dict[str, str] = {}  # path -> reclaim category

    def attach_reclaim(self, report: ReclaimReport) -> None:
        """Mark the files `report` counts (its `classified` files: the very ones its figures
        sum), so the reclaimable view shows the same bytes as `trimdock layers`."""
        self.reclaim = report
        self.categories = {file.path: category for file, category in report.classified}
        index = {directory.path: directory for directory in _directories(self.root)}
        found: dict[str, list[tuple[str, str, Version]]] = {}
        for file, category in report.classified:
            parent, _, name = file.path.rpartition("/")
            directory = index.get(parent)
            if directory is None:
                continue
            final = [v for v in directory.files.get(name, ()) if v.hidden_by == VISIBLE]
            if final:
                found.setdefault(parent, []).append((name, category, final[0]))
        for path, entries in found.items():
            index[path].reclaim = tuple(entries)
        self._figures = {k: v for k, v in self._figures.items() if k[1] is not View.RECLAIM}

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
        index = {"": root}
        seen_inodes: set[int] = set()
        # The final filesystem, mirrored from the overlay's own trie (no path is split).
        stack = [(overlay.root, root)]
        while stack:
            node, directory = stack.pop()
            for name, kid in (node.kids or {}).items():
                if kid.e_layer < 0:
                    continue
                if kid.e_kind == K_DIR:
                    sub = directory.dirs.get(name)
                    if sub is None:
                        path = f"{directory.path}/{name}" if directory.path else name
                        sub = directory.dirs[name] = index[path] = Directory(name, path)
                    sub.since = kid.e_layer
                    stack.append((kid, sub))
                    continue
                nbytes = kid.e_nbytes
                inode = kid.e_inode
                if inode is not None:  # hard-linked bytes count once, on the first name
                    nbytes = 0 if id(inode) in seen_inodes else inode.nbytes
                    seen_inodes.add(id(inode))
                kind = KIND_NAMES.get(kid.e_kind, "file")
                version = Version(kid.e_layer, nbytes, VISIBLE, "", kind)
                directory.files.setdefault(name, []).append(version)
        for hidden in overlay.hidden_files:
            _add(index, hidden.path, _hidden_version(hidden))
        for directory in index.values():
            plain: dict[int, list[int]] = {}
            mixed = []
            for name, versions in directory.files.items():
                if len(versions) > 1:
                    versions.sort(key=lambda v: (v.shipped_in, v.hidden_by == VISIBLE, v.hidden_by))
                    mixed.append((name, versions))
                elif versions[0].hidden_by != VISIBLE:
                    mixed.append((name, versions))
                else:
                    sums = plain.setdefault(versions[0].shipped_in, [0, 0])
                    sums[0] += versions[0].bytes
                    sums[1] += 1
            directory.plain = tuple((layer, b, n) for layer, (b, n) in sorted(plain.items()))
            directory.mixed = tuple(mixed)
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
        self, directory: Directory, layer: int, view: View, search: str = "", category: str = ""
    ) -> Iterator[FileState]:
        """The files directly in `directory` that `view` shows at `layer` (RECLAIM: of
        `category` only, when given)."""
        needle = search.lower()
        if view is View.RECLAIM:
            for name, cat, version in directory.reclaim:
                path = f"{directory.path}/{name}" if directory.path else name
                if (needle and needle not in path.lower()) or (category and cat != category):
                    continue
                if version.shipped_in <= layer:
                    mark = Mark.ADDED if version.shipped_in == layer else Mark.NONE
                    yield FileState(name, path, version, mark, False, cat)
            return
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
            cat = self.categories.get(path, "") if self.categories else ""
            if cat and found.version.hidden_by == VISIBLE:
                found = FileState(name, path, found.version, found.mark, found.wasted, cat)
            yield found

    def figures(
        self, directory: Directory, layer: int, view: View, search: str = "", category: str = ""
    ) -> DirFigures:
        """The figures of `directory` (computed for every directory of the view at once)."""
        key = (layer, view, search.lower(), category if view is View.RECLAIM else "")
        table = self._figures.get(key)
        if table is None:
            if view is View.RECLAIM:
                table = self._compute_reclaim(layer, search, category)
            else:
                table = self._compute(layer, view, search)
            self._figures[key] = table
        return table.get(id(directory), _NOTHING)

    def _compute_reclaim(self, layer: int, search: str, category: str) -> dict[int, DirFigures]:
        """RECLAIM's figures: bytes and files of the reclaimable final files shipped at or
        before `layer` (`bytes` is what could go below each directory)."""
        table: dict[int, DirFigures] = {}
        if self._order is None:
            self._order = list(_directories(self.root))[::-1]
        for directory in self._order:
            size = files = changed = 0
            for state in self.files(directory, layer, View.RECLAIM, search, category):
                size += state.bytes
                files += 1
                changed += state.mark is Mark.ADDED
            shown = files
            for child in directory.dirs.values():
                sub = table.get(id(child))
                if sub is not None:
                    size += sub.bytes
                    files += sub.files
                    changed += sub.changed
                    shown += sub.shown
            if shown:
                table[id(directory)] = DirFigures(size, files, changed, 0, shown)
        return table

    def _compute(self, layer: int, view: View, search: str) -> dict[int, DirFigures]:
        """Every directory's figures in one pass, children before parents.

        The hot loop of the explorer (every file of the image, once per layer and view
        shown): it decides inline what `state`, which defines the marks, would.
        """
        table: dict[int, DirFigures] = {}
        needle = search.lower()
        waste, changes = view is View.WASTE, view is View.CHANGES
        if self._order is None:
            self._order = list(_directories(self.root))[::-1]
        for directory in self._order:
            size = files = changed = wasted = shown = empty = 0
            base = directory.path
            if needle:
                items: Iterable[tuple[str, list[Version]]] = directory.files.items()
            else:
                # Files with one visible version, summed by layer: what `state` decides for
                # them is only whether they are there yet and whether this layer added them.
                items = directory.mixed
                if not waste:
                    for shipped, nbytes, count in directory.plain:
                        if shipped > layer or (changes and shipped < layer):
                            continue
                        size += nbytes
                        files += count
                        shown += count
                        changed += count if shipped == layer else 0
            for name, versions in items:
                if needle and needle not in (f"{base}/{name}" if base else name).lower():
                    continue
                if waste:
                    for v in versions:
                        if v.hidden_by != VISIBLE and v.shipped_in <= layer:
                            size += v.bytes
                            files += 1
                            shown += 1
                    continue
                # What `state` decides, without making its object: the version visible at
                # this layer, else the one this layer removed.
                current = removed = None
                for v in versions:
                    shipped, hidden = v.shipped_in, v.hidden_by
                    if shipped <= layer and (hidden == VISIBLE or hidden > layer):
                        current = v
                    elif hidden == layer and shipped < layer:
                        removed = v
                if current is not None:
                    new = current.shipped_in == layer
                    if changes and not new:
                        continue
                    size += current.bytes
                    files += 1
                    shown += 1
                    changed += new
                    wasted += current.bytes if current.hidden_by != VISIBLE else 0
                elif removed is not None:
                    shown += 1
                    changed += 1
                    if changes:
                        size += removed.bytes
                        files += 1
            for child in directory.dirs.values():
                sub = table.get(id(child))
                if sub is None:
                    continue
                size += sub.bytes
                files += sub.files
                changed += sub.changed
                wasted += sub.wasted
                shown += sub.shown
                empty += sub.empty
            if shown:
                table[id(directory)] = DirFigures(size, files, changed, wasted, shown, empty)
            elif (
                not waste
                and base
                and 0 <= directory.since <= layer
                and not (changes and directory.since < layer)
                and not (needle and needle not in base.lower())
            ):
                made_here = 1 if directory.since == layer else 0
                table[id(directory)] = DirFigures(0, 0, made_here, 0, 1, 1, bare=True)
        return table

    def subdirectories(
        self, directory: Directory, layer: int, view: View, search: str = "", category: str = ""
    ) -> Iterator[tuple[Directory, DirFigures]]:
        """The subdirectories with something to show in `view` at `layer`."""
        for child in directory.dirs.values():
            figures = self.figures(child, layer, view, search, category)
            if figures.shown:
                yield child, figures


_NOTHING = DirFigures(0, 0, 0, 0, 0)


def _hidden_version(hidden: HiddenFile) -> Version:
    return Version(
        hidden.shipped_in, hidden.bytes, hidden.hidden_by, hidden.kind, hidden.entry_type
    )


def _add(index: dict[str, Directory], path: str, version: Version) -> None:
    parent_path, _, name = path.rpartition("/")
    directory = index.get(parent_path)
    if directory is None:
        directory = index[""]
        prefix = ""
        for part in parent_path.split("/"):
            prefix = f"{prefix}/{part}" if prefix else part
            child = directory.dirs.get(part)
            if child is None:
                child = directory.dirs[part] = index[prefix] = Directory(part, prefix)
            directory = child
    directory.files.setdefault(name, []).append(version)


def _directories(root: Directory) -> Iterator[Directory]:
    """Every directory, parents before children (iterative: paths can be very deep)."""
    stack = [root]
    while stack:
        directory = stack.pop()
        yield directory
        stack.extend(directory.dirs.values())
