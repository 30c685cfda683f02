"""The final filesystem as a bounded tree, for pictures of it (the HTML treemap).

An image can have hundreds of thousands of paths; a picture needs a few thousand rectangles.
The largest nodes are kept (a node only with its parent), up to a budget; what a kept directory
holds beyond that becomes one "rest" node per layer, so sizes still add up exactly and every byte
keeps the colour of the layer that shipped it.

The tree is columnar (parallel lists, parent before child, parent index per node): compact in
JSON and free of nesting, so a path thousands of levels deep costs no recursion anywhere.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from trimdock.layers.overlay import K_DIR, KIND_NAMES, Node, Overlay

REST = "rest"
# Nodes kept besides the "rest" aggregates: a few hundred kB of JSON, drawn in milliseconds.
DEFAULT_BUDGET = 6000


@dataclass(frozen=True, slots=True)
class FsTree:
    """Node i: `names[i]` under `parents[i]` (-1 for the root, node 0).

    `sizes` are visible bytes at or below the node (hard-linked bytes once), `files` the
    non-directory entries at or below it, `layers` the layer of the visible entry (for a rest
    node: the layer all its bytes come from), `kinds` dir/file/symlink/hardlink/special/rest.
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    sizes: tuple[int, ...]
    files: tuple[int, ...]
    layers: tuple[int, ...]
    kinds: tuple[str, ...]
    total_paths: int  # visible paths in the image, kept or not

    def __len__(self) -> int:
        return len(self.names)


def _own_bytes(node: Node, seen: set[int]) -> int:
    """A leaf's visible bytes; a hard-linked file's bytes go to the first name met only."""
    inode = node.e_inode
    if inode is None:
        return node.e_nbytes
    key = id(inode)
    if key in seen:
        return 0
    seen.add(key)
    return inode.nbytes


def _visible_kids(node: Node) -> list[tuple[str, Node]]:
    kids = node.kids
    if not kids or node.e_kind != K_DIR:
        return []
    return sorted((name, kid) for name, kid in kids.items() if kid.e_layer >= 0)


def _measure(root: Node) -> tuple[dict[int, tuple[int, int]], int]:
    """(bytes, files) at or below every visible node, by id; and the number of visible paths."""
    totals: dict[int, tuple[int, int]] = {}
    seen: set[int] = set()
    order: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(kid for _, kid in _visible_kids(node))
    # Parents come before children in `order`: reversed, every child is done before its parent.
    for node in reversed(order):
        if node.e_kind == K_DIR:
            size = files = 0
            for _, kid in _visible_kids(node):
                kid_size, kid_files = totals[id(kid)]
                size += kid_size
                files += kid_files
            totals[id(node)] = (size, files)
        else:
            totals[id(node)] = (_own_bytes(node, seen), 1)
    return totals, len(order) - 1


def build_tree(overlay: Overlay, *, budget: int = DEFAULT_BUDGET) -> FsTree:
    """The visible filesystem of `overlay`, its `budget` largest nodes kept (root included)."""
    root = overlay.root
    totals, paths = _measure(root)
    names: list[str] = [""]
    parents: list[int] = [-1]
    sizes: list[int] = [totals[id(root)][0]]
    files: list[int] = [totals[id(root)][1]]
    layers: list[int] = [0]
    kinds: list[str] = ["dir"]
    kept: set[int] = {id(root)}
    expanded: list[tuple[int, Node]] = [(0, root)]  # kept directories, by output index
    heap: list[tuple[int, int, int, str, Node]] = []
    tick = 0

    def offer(parent_index: int, node: Node) -> None:
        nonlocal tick
        for name, kid in _visible_kids(node):
            tick += 1
            heapq.heappush(heap, (-totals[id(kid)][0], tick, parent_index, name, kid))

    offer(0, root)
    while heap and len(names) < budget:
        negative, _, parent_index, name, node = heapq.heappop(heap)
        index = len(names)
        names.append(name)
        parents.append(parent_index)
        sizes.append(-negative)
        files.append(totals[id(node)][1])
        layers.append(node.e_layer)
        kinds.append(KIND_NAMES.get(node.e_kind, "file"))
        kept.add(id(node))
        if node.e_kind == K_DIR:
            expanded.append((index, node))
            offer(index, node)
    for index, node in expanded:
        _rest(node, index, kept, totals, (names, parents, sizes, files, layers, kinds))
    return FsTree(
        names=tuple(names),
        parents=tuple(parents),
        sizes=tuple(sizes),
        files=tuple(files),
        layers=tuple(layers),
        kinds=tuple(kinds),
        total_paths=paths,
    )


def _rest(
    directory: Node,
    index: int,
    kept: set[int],
    totals: dict[int, tuple[int, int]],
    columns: tuple[list[str], list[int], list[int], list[int], list[int], list[str]],
) -> None:
    """One rest node per layer for what `directory` holds but the tree does not show."""
    by_layer: dict[int, list[int]] = {}
    stack = [kid for _, kid in _visible_kids(directory) if id(kid) not in kept]
    while stack:
        node = stack.pop()
        if node.e_kind == K_DIR:
            stack.extend(kid for _, kid in _visible_kids(node))
            continue
        figures = by_layer.setdefault(node.e_layer, [0, 0])
        figures[0] += totals[id(node)][0]
        figures[1] += 1
    names, parents, sizes, files, layers, kinds = columns
    for layer in sorted(by_layer):
        size, count = by_layer[layer]
        names.append(f"({count} more {'file' if count == 1 else 'files'})")
        parents.append(index)
        sizes.append(size)
        files.append(count)
        layers.append(layer)
        kinds.append(REST)


def tree_json(tree: FsTree) -> dict[str, object]:
    return {
        "names": list(tree.names),
        "parents": list(tree.parents),
        "sizes": list(tree.sizes),
        "files": list(tree.files),
        "layers": list(tree.layers),
        "kinds": list(tree.kinds),
        "total_paths": tree.total_paths,
    }
