"""Applying layers bottom-up, one tar header at a time, with exact waste blame and dive's metrics.

One trie holds every path any layer ever named. Each node carries three independent views:

* the **exact** filesystem (`e_*`): which layer's entry is visible at the path now, with its
  bytes. Whiteouts, opaque directories, directories replaced by files and overwrites hide
  entries; every hidden byte is charged to the layer that shipped it and blamed on the layer
  that hid it. Hard links share an `_Inode`, so their bytes count once and are wasted only when
  the last visible name goes.
* **dive's** stacked tree (`d_*`), kept with dive's quirks so its figures can be reproduced
  exactly: opaque directories are ignored, a file written over a directory keeps the children,
  an implicit parent directory has an empty payload (not a directory, size 0).
* dive's per-path **efficiency** record (`f_*`): how many layers had the path as a leaf, the sum
  and the minimum of the sizes seen there.

Nodes are never removed (a deleted path keeps its dive record), so a node is "present" in a view
by a flag, and an absent node never has present descendants in the same view.

Everything is streaming: entries are consumed once, nothing but the trie is kept, and per-entry
work is a few dict look-ups (parent directories of a layer are cached by path).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from trimdock.errors import UnsafePathError
from trimdock.image.model import EntryType, LayerEntry

# Exact-view kinds, as small ints to keep nodes cheap.
K_DIR = 1
K_FILE = 2
K_SYMLINK = 3
K_HARDLINK = 4
K_OTHER = 5

_KIND = {
    EntryType.DIR: K_DIR,
    EntryType.FILE: K_FILE,
    EntryType.SYMLINK: K_SYMLINK,
    EntryType.HARDLINK: K_HARDLINK,
    EntryType.CHAR: K_OTHER,
    EntryType.BLOCK: K_OTHER,
    EntryType.FIFO: K_OTHER,
}

KIND_NAMES = {
    K_DIR: "dir",
    K_FILE: "file",
    K_SYMLINK: "symlink",
    K_HARDLINK: "hardlink",
    K_OTHER: "special",
}

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_AUFS_META = ".wh..wh."

# Why an entry stopped being visible.
DELETED = "deleted"  # a whiteout of the path or of a directory above it
OPAQUE_DIR = "opaque"  # an opaque directory above it hid every lower child
REPLACED = "replaced"  # a directory above it (or itself) was replaced by a non-directory
OVERWRITTEN = "overwritten"  # a later entry at the same path
METADATA = "metadata"  # rewritten with the same size and mtime: chmod/chown copied the file

REMOVALS = frozenset({DELETED, OPAQUE_DIR, REPLACED})

# A layer with this many entries makes the collector's full passes costly enough to freeze
# (see `Overlay.apply`); small ones (tests, tiny images) leave the collector as it was.
FREEZE_AFTER = 10_000

D_ABSENT = -1  # not in dive's stacked tree
D_DIR = -2  # an explicit directory in dive's stacked tree (size 0)


class _Inode:
    """The bytes behind a set of hard-linked names; wasted only when `refs` drops to zero."""

    __slots__ = ("layer", "nbytes", "path", "refs")

    def __init__(self, layer: int, nbytes: int, path: str) -> None:
        self.layer = layer
        self.nbytes = nbytes
        self.path = path
        self.refs = 1


class Node:
    """One path ever named by a layer. See the module docstring for the three views.

    Compact on purpose (one per tar entry): mode and mtime share `e_meta`, dive's "explicit
    directory" flag is a `d_size` value, and dive's efficiency record is -1 (never seen), an int
    (seen once, with that size) or a list `[count, cumulative, minimum]`.
    """

    __slots__ = (
        "d_size",
        "e_inode",
        "e_kind",
        "e_layer",
        "e_meta",
        "e_nbytes",
        "f",
        "kids",
        "touch",
    )

    def __init__(self) -> None:
        self.kids: dict[str, Node] | None = None
        self.touch = -1  # last layer whose tree contained this path (entry or implied parent)
        self.e_layer = -1  # layer of the visible entry; -1: not in the exact filesystem
        self.e_kind = 0
        self.e_nbytes = 0
        self.e_meta = 0
        self.e_inode: _Inode | None = None
        self.d_size = D_ABSENT  # dive payload: D_ABSENT, D_DIR or a size
        self.f: int | list[int] = -1

    @property
    def present(self) -> bool:
        return self.e_layer >= 0

    @property
    def e_mode(self) -> int:
        return self.e_meta & 0o7777

    @property
    def e_mtime(self) -> int:
        return self.e_meta >> 12

    @property
    def inode_source(self) -> tuple[int, str] | None:
        """(layer, path) of the tar entry that carries a hard-linked file's bytes."""
        inode = self.e_inode
        return None if inode is None else (inode.layer, inode.path)


def meta(mode: int, mtime: int) -> int:
    return (mtime << 12) | (mode & 0o7777)


@dataclass(slots=True)
class LayerCounter:
    """Figures accumulated while a layer is applied (mutable; frozen later by the analysis)."""

    index: int
    size: int = 0
    entries: int = 0
    whiteouts: int = 0
    files_added: int = 0
    files_modified: int = 0
    files_deleted: int = 0
    hidden: int = 0
    dive_size: int = 0


@dataclass(frozen=True, slots=True)
class HiddenFile:
    """One non-directory entry a later entry hid: what it was, where it shipped, who hid it."""

    path: str
    kind: str
    bytes: int
    shipped_in: int
    hidden_by: int
    entry_type: str


def entry_bytes(entry: LayerEntry) -> int:
    """Bytes an entry adds to a layer, as the engine counts a layer's size.

    Regular files count their content, symlinks the length of their target (as `lstat` sizes
    them in the engine's layer directories); hard links, directories and devices count zero.
    """
    if entry.type is EntryType.FILE:
        return entry.size
    if entry.type is EntryType.SYMLINK:
        return len(entry.link.encode("utf-8", "surrogateescape"))
    return 0


def unsafe_path(path: str) -> bool:
    """Whether a normalised path could name something outside the root."""
    if path.startswith("/"):
        return True
    if ".." not in path:
        return False
    return ".." in path.split("/")


class Overlay:
    """The filesystem as layers are applied in order; feed each layer once with `apply`."""

    def __init__(self, *, record_hidden: bool = False, source: str | None = None) -> None:
        self.root = Node()
        self.root.e_layer = 0
        self.root.e_kind = K_DIR
        self.root.d_size = D_DIR
        self.source = source
        self.layers: list[LayerCounter] = []
        self.wasted_by_layer: list[int] = []
        # (root path, shipped layer, hiding layer, kind) -> [bytes, files]
        self.groups: dict[tuple[str, int, int, str], list[int]] = {}
        self.record_hidden = record_hidden
        self.hidden_files: list[HiddenFile] = []
        self.visible_files = 0
        # dive's efficiency sums, maintained incrementally.
        self.f_sum_min = 0
        self.f_sum_cum = 0
        self.f_wasted = 0
        self.f_repeated: list[tuple[str, Node]] = []  # paths dive saw in two or more layers
        # One int object per distinct value: most entries share their mtime and mode (a
        # package's files) and many their size, and a big int costs 32 bytes per node.
        self._ints: dict[int, int] = {}
        self.released = False
        self._layer = -1
        self._counter = LayerCounter(-1)

    # -- applying ---------------------------------------------------------------------------

    def apply(self, entries: Iterable[LayerEntry]) -> LayerCounter:
        """Apply the next layer's entries (tar order) and return its figures."""
        # The trie makes no reference cycles, yet every node is a tracked container: left on,
        # the cycle collector would rescan the whole trie again and again as it grows (a
        # third of the run's CPU time on a 100k-file image). So it is off while a layer is
        # applied, and after a big layer everything alive is moved out of its sight
        # (`gc.freeze`): the nodes are freed by reference counting like any object.
        collecting = gc.isenabled()
        gc.disable()
        try:
            counter = self._apply(entries)
            if counter.entries >= FREEZE_AFTER:
                gc.freeze()
            return counter
        finally:
            if collecting:
                gc.enable()

    def _apply(self, entries: Iterable[LayerEntry]) -> LayerCounter:
        if self.released:
            raise RuntimeError("layers applied to an overlay already summarized")
        layer = len(self.layers)
        self._layer = layer
        counter = LayerCounter(layer)
        self._counter = counter
        self.layers.append(counter)
        self.wasted_by_layer.append(0)
        root = self.root
        root.touch = layer
        # Parent directories already resolved in this layer; also dive's "has a child in this
        # layer's tree" set, which decides whether a directory entry is a leaf.
        layer_dirs: dict[str, Node] = {"": root}
        dir_entries: list[tuple[str, Node]] = []
        kinds = _KIND
        same = self._ints.setdefault
        # Hot loop: counters live in locals and are added to the totals at the end.
        n_entries = n_bytes = n_dive = n_added = n_visible = f_min = f_cum = 0
        for entry in entries:
            path = entry.path
            if ".." in path or path.startswith("/"):
                self._check_safe(path, "entry")
            parent_path, _, name = path.rpartition("/")
            if name.startswith(WHITEOUT):
                self._whiteout(parent_path, name, layer_dirs)
                continue
            parent = layer_dirs.get(parent_path)
            if parent is None or parent.e_layer < 0 or parent.e_kind != K_DIR:
                parent = self._resolve_dir(parent_path, layer_dirs)
            kids = parent.kids
            if kids is None:
                kids = parent.kids = {}
            node = kids.get(name)
            if node is None:
                node = kids[name] = Node()
            kind = kinds[entry.type]
            size = same(entry.size, entry.size) if kind == K_FILE else 0
            if kind == K_SYMLINK:
                nbytes = len(entry.link.encode("utf-8", "surrogateescape"))
            else:
                nbytes = size
            n_entries += 1
            n_bytes += nbytes
            n_dive += size
            duplicate = node.touch == layer and node.e_layer == layer and node.e_kind != K_DIR
            if node.e_layer >= 0:
                self._replace(node, path, kind, nbytes, entry.mtime)
            elif kind != K_DIR:
                n_added += 1
            node.e_layer = layer
            node.e_kind = kind
            node.e_nbytes = nbytes
            node_meta = (entry.mtime << 12) | (entry.mode & 0o7777)
            node.e_meta = same(node_meta, node_meta)
            node.e_inode = None
            # dive: an explicit entry sets the payload of its node for this layer.
            node.touch = layer
            if kind == K_DIR:
                node.d_size = D_DIR
                dir_entries.append((path, node))
                continue
            node.d_size = size
            n_visible += 1
            if kind == K_HARDLINK:
                self._link(node, entry)
            if duplicate:
                continue
            if node.f == -1:  # the common first sighting, inlined
                node.f = size
                f_min += size
                f_cum += size
            else:
                self._observe(node, size, path)
        counter.entries += n_entries
        counter.size += n_bytes
        counter.dive_size += n_dive
        counter.files_added += n_added
        self.visible_files += n_visible
        self.f_sum_min += f_min
        self.f_sum_cum += f_cum
        # dive visits only the leaves of a layer's tree: a directory entry is one when nothing
        # else in the layer lies below it.
        for path, node in dir_entries:
            if path not in layer_dirs:
                self._observe(node, 0, path)
        return counter

    def _check_safe(self, path: str, what: str) -> None:
        if unsafe_path(path):
            raise UnsafePathError(
                f"layer {self._layer}: {what} {path!r} climbs above the image root",
                source=self.source,
            )

    def _resolve_dir(self, path: str, layer_dirs: dict[str, Node] | None) -> Node:
        """The directory node at `path`, creating implied parents and touching them for dive."""
        layer = self._layer
        node = self.root
        if not path:
            return node
        prefix = ""
        for name in path.split("/"):
            prefix = f"{prefix}/{name}" if prefix else name
            kids = node.kids
            if kids is None:
                kids = node.kids = {}
            child = kids.get(name)
            if child is None:
                child = kids[name] = Node()
            if child.touch != layer:
                # dive gives an implied parent an empty payload: not a directory, size 0.
                child.touch = layer
                child.d_size = 0
            if child.e_layer < 0 or child.e_kind != K_DIR:
                if child.e_layer >= 0:
                    # A path below a non-directory: the engine would follow a symlink here; a
                    # well-formed layer never does this. Treat the non-directory as replaced.
                    self._hide(child, prefix, REPLACED, prefix)
                child.e_layer = layer
                child.e_kind = K_DIR
                child.e_nbytes = 0
                child.e_meta = 0o755
                child.e_inode = None
            if layer_dirs is not None:
                layer_dirs[prefix] = child
            node = child
        return node

    def _replace(self, node: Node, path: str, kind: int, nbytes: int, mtime: int) -> None:
        """A new entry lands on a visible path: hide what was there."""
        counter = self._counter
        same_layer = node.e_layer == self._layer
        if node.e_kind == K_DIR:
            if kind != K_DIR:
                self._hide_below(node, path, REPLACED, path, keep_layer=False)
                counter.files_modified += 0 if same_layer else 1
            return
        why = OVERWRITTEN
        same = node.e_nbytes == nbytes and node.e_meta >> 12 == mtime
        if same and kind == K_FILE and node.e_kind == K_FILE:
            why = METADATA
        self._hide(node, path, why, path)
        if kind == K_DIR:
            counter.files_deleted += 1
        elif not same_layer:
            counter.files_modified += 1

    def _link(self, node: Node, entry: LayerEntry) -> None:
        target_path = entry.link
        if not target_path:
            return
        if ".." in target_path or target_path.startswith("/"):
            self._check_safe(target_path, "hard link target")
        target = self.lookup(target_path)
        if target is None or target is node or target.e_layer < 0:
            return
        inode = target.e_inode
        if inode is None:
            if target.e_kind != K_FILE:
                return
            inode = target.e_inode = _Inode(target.e_layer, target.e_nbytes, target_path)
        inode.refs += 1
        node.e_inode = inode

    def _whiteout(self, parent_path: str, name: str, layer_dirs: dict[str, Node]) -> None:
        self._counter.whiteouts += 1
        if name.startswith(_AUFS_META) and name != OPAQUE:
            return
        opaque = name == OPAQUE
        parent = layer_dirs.get(parent_path)
        if parent is None or parent.e_layer < 0 or parent.e_kind != K_DIR:
            # An opq entry is not cached in `layer_dirs`: dive drops it, so it does not make
            # its directory a non-leaf.
            parent = self._resolve_dir(parent_path, None if opaque else layer_dirs)
        if opaque:
            if parent.kids:
                for child_name, child in list(parent.kids.items()):
                    child_path = f"{parent_path}/{child_name}" if parent_path else child_name
                    self._hide_subtree(child, child_path, OPAQUE_DIR, parent_path)
            return
        target_name = name[len(WHITEOUT) :]
        target_path = f"{parent_path}/{target_name}" if parent_path else target_name
        kids = parent.kids
        if kids is None:
            kids = parent.kids = {}
        node = kids.get(target_name)
        if node is None:
            node = kids[target_name] = Node()
        # dive sizes a whiteout by what it removes from the stacked tree when that was an explicit
        # directory, else 0; then removes the path from its stacked tree.
        size = 0
        if node.d_size != D_ABSENT:
            size = self._dive_remove(node, size_it=node.d_size == D_DIR)
        self._observe(node, size, target_path)
        self._hide_subtree(node, target_path, DELETED, target_path)

    # -- hiding -----------------------------------------------------------------------------

    def _hide_subtree(self, node: Node, path: str, why: str, root: str) -> None:
        """Hide `node` and everything below it, except what the current layer itself added."""
        if node.touch == self._layer:
            if node.e_layer >= 0 and node.e_kind == K_DIR:
                self._hide_below(node, path, why, root, keep_layer=True)
            return
        if node.e_layer < 0:
            return
        was_dir = node.e_kind == K_DIR
        self._hide(node, path, why, root)
        if was_dir:
            self._hide_below(node, path, why, root, keep_layer=False)

    def _hide_below(self, node: Node, path: str, why: str, root: str, *, keep_layer: bool) -> None:
        """Hide every visible descendant of `node` (optionally keeping the current layer's)."""
        layer = self._layer
        stack: list[tuple[Node, str]] = [(node, path)]
        hide = self._hide
        while stack:
            parent, parent_path = stack.pop()
            kids = parent.kids
            if not kids:
                continue
            for name, child in kids.items():
                if child.e_layer < 0:
                    continue
                child_path = f"{parent_path}/{name}" if parent_path else name
                if keep_layer and child.touch == layer:
                    if child.e_kind == K_DIR:
                        stack.append((child, child_path))
                    continue
                if child.e_kind == K_DIR:
                    stack.append((child, child_path))
                hide(child, child_path, why, root)

    def _hide(self, node: Node, path: str, why: str, root: str) -> None:
        """Take one visible entry out of the exact filesystem and charge its bytes."""
        layer = self._layer
        kind = node.e_kind
        inode = node.e_inode
        shipped = node.e_layer
        if inode is not None:
            inode.refs -= 1
            nbytes = inode.nbytes if inode.refs == 0 else 0
            shipped = inode.layer
        else:
            nbytes = node.e_nbytes
        node.e_layer = -1
        node.e_inode = None
        if kind == K_DIR:
            return
        self.visible_files -= 1
        counter = self._counter
        if why in REMOVALS:
            counter.files_deleted += 1
        if nbytes:
            self.wasted_by_layer[shipped] += nbytes
            counter.hidden += nbytes
        key = (root, shipped, layer, why)
        group = self.groups.get(key)
        if group is None:
            self.groups[key] = [nbytes, 1]
        else:
            group[0] += nbytes
            group[1] += 1
        if self.record_hidden:
            self.hidden_files.append(
                HiddenFile(path, why, nbytes, shipped, layer, KIND_NAMES.get(kind, "file"))
            )

    # -- dive -------------------------------------------------------------------------------

    def _dive_remove(self, node: Node, *, size_it: bool) -> int:
        """Remove `node`'s subtree from dive's stacked tree; return the sizes it held."""
        layer = self._layer
        total = 0
        stack = [node]
        while stack:
            current = stack.pop()
            size = current.d_size
            if size == D_ABSENT:
                continue
            if size > 0:
                total += size
            if current.touch != layer:
                current.d_size = D_ABSENT
            if current.kids:
                stack.extend(current.kids.values())
        return total if size_it else 0

    def _observe(self, node: Node, size: int, path: str) -> None:
        """dive's efficiency visitor: one leaf of one layer's tree at this path."""
        record = node.f
        if isinstance(record, list):
            record[0] += 1
            record[1] += size
            self.f_sum_cum += size
            if size < record[2]:
                self.f_sum_min -= record[2] - size
                record[2] = size
            self.f_wasted += size
            return
        if record == -1:
            node.f = size
            self.f_sum_min += size
            self.f_sum_cum += size
            return
        # Seen a second time: dive's wastedBytes sums the *cumulative* size of every path seen
        # in two or more layers.
        smallest = min(record, size)
        node.f = [2, record + size, smallest]
        self.f_sum_cum += size
        self.f_sum_min -= record - smallest
        self.f_wasted += record + size
        self.f_repeated.append((path, node))

    def release_bookkeeping(self) -> None:
        """Drop what only `summarize` reads (dive's efficiency records, the wasted groups):
        a tenth of the overlay, freed before the reclaim analysis builds its file list.
        The filesystem views stay; applying or summarizing again is an error."""
        self.released = True
        for _path, node in self.f_repeated:
            node.f = -1
        self.f_repeated = []
        self.groups = {}
        self._ints = {}

    # -- reading ----------------------------------------------------------------------------

    def lookup(self, path: str) -> Node | None:
        """The node at a normalised path, visible or not; None when no layer named it."""
        node = self.root
        if not path:
            return node
        for name in path.split("/"):
            kids = node.kids
            if not kids:
                return None
            child = kids.get(name)
            if child is None:
                return None
            node = child
        return node

    def visible(self, path: str) -> Node | None:
        """The node at `path` if it is in the exact filesystem now (its parents too)."""
        node = self.root
        if not path:
            return node
        for name in path.split("/"):
            kids = node.kids
            child = kids.get(name) if kids else None
            if child is None or child.e_layer < 0:
                return None
            node = child
        return node

    def walk(self, start: str = "") -> Iterable[tuple[str, Node]]:
        """Every visible (path, node) at or below `start`, parents before children, sorted."""
        node = self.visible(start)
        if node is None:
            return
        stack: list[tuple[str, Node]] = [(start, node)]
        while stack:
            path, current = stack.pop()
            if path:
                yield path, current
            kids = current.kids
            if kids and current.e_kind == K_DIR:
                for name in sorted(kids, reverse=True):
                    child = kids[name]
                    if child.e_layer >= 0:
                        stack.append((f"{path}/{name}" if path else name, child))

    def dive_inefficient(self) -> Iterator[tuple[str, int, int]]:
        """(path, count, cumulative size) of every path dive saw in two or more layers."""
        for path, node in self.f_repeated:
            record = node.f
            assert isinstance(record, list)
            yield "/" + path, record[0], record[1]
