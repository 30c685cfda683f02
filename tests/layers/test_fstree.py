"""The bounded picture of the final filesystem: exact sizes, a node budget, no recursion."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.layers.builders import d, f, ln, sym, wh
from trimdock.image.model import LayerEntry
from trimdock.layers.analysis import analyze_layers
from trimdock.layers.fstree import REST, FsTree, build_tree
from trimdock.layers.overlay import Overlay


def tree_of(*layers: list[LayerEntry], budget: int = 100) -> tuple[FsTree, int, int]:
    overlay = Overlay()
    analysis = analyze_layers(layers, overlay=overlay)
    return build_tree(overlay, budget=budget), analysis.visible_size, analysis.visible_files


def paths(tree: FsTree) -> dict[str, int]:
    """Node path -> index (rest nodes included under their directory)."""
    full: list[str] = []
    for i, name in enumerate(tree.names):
        parent = tree.parents[i]
        full.append("" if parent < 0 else f"{full[parent]}/{name}")
    return {p: i for i, p in enumerate(full)}


def leaves_total(tree: FsTree) -> int:
    parents = set(tree.parents)
    return sum(size for i, size in enumerate(tree.sizes) if i not in parents)


def test_sizes_add_up_and_only_visible_paths_appear() -> None:
    tree, visible, files = tree_of(
        [d("app"), f("app/a", 300), f("app/b", 20), f("tmp/big", 10_000)],
        [wh("tmp/big"), f("app/c", 5)],
    )
    index = paths(tree)
    assert tree.sizes[0] == visible == 325
    assert tree.files[0] == files == 3
    assert "/tmp/big" not in index
    assert tree.sizes[index["/app"]] == 325
    assert tree.layers[index["/app/c"]] == 1
    assert tree.layers[index["/app/a"]] == 0
    assert tree.kinds[index["/app/a"]] == "file"
    assert leaves_total(tree) == visible


def test_budget_keeps_the_largest_and_aggregates_the_rest_per_layer() -> None:
    small = [f(f"lib/small{i:03d}", 10) for i in range(200)]
    upper = [f(f"lib/new{i:02d}", 7) for i in range(30)]
    tree, visible, _ = tree_of([d("lib"), f("lib/huge", 50_000), *small], upper, budget=10)
    index = paths(tree)
    assert "/lib/huge" in index
    rest = [i for i, kind in enumerate(tree.kinds) if kind == REST]
    # One rest node per layer below /lib, carrying that layer's bytes and files exactly.
    assert sorted(tree.layers[i] for i in rest) == [0, 1]
    kept_small = sum(1 for p in index if p.startswith("/lib/small"))
    kept_new = sum(1 for p in index if p.startswith("/lib/new"))
    by_layer = {tree.layers[i]: (tree.sizes[i], tree.files[i]) for i in rest}
    assert by_layer[0] == (10 * (200 - kept_small), 200 - kept_small)
    assert by_layer[1] == (7 * (30 - kept_new), 30 - kept_new)
    assert len(tree) - len(rest) == 10
    assert leaves_total(tree) == visible
    assert tree.total_paths == 1 + 1 + 200 + 30


def test_hard_linked_bytes_count_once_and_survive_the_original_name() -> None:
    tree, visible, _ = tree_of(
        [f("bin/tool", 1000), ln("bin/alias", "bin/tool"), sym("bin/s", "tool")],
        [wh("bin/tool")],
    )
    assert "/bin/tool" not in paths(tree)
    assert tree.sizes[0] == visible == 1000 + len("tool")


def test_a_path_thousands_of_levels_deep_needs_no_recursion() -> None:
    deep = "/".join(["d"] * 3000)
    tree, visible, _ = tree_of([f(f"{deep}/leaf", 9)], budget=5000)
    assert tree.sizes[0] == visible == 9
    assert len(tree) == 3002


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "a/b", "a/c", "b", "a/b/c", "c/d"]),
                st.integers(0, 500),
                st.booleans(),
            ),
            max_size=8,
        ),
        min_size=1,
        max_size=4,
    ),
    st.integers(1, 8),
)
def test_leaves_always_sum_to_the_visible_size(
    spec: list[list[tuple[str, int, bool]]], budget: int
) -> None:
    layers = []
    for items in spec:
        entries: list[LayerEntry] = []
        for path, size, delete in items:
            entries.append(wh(path) if delete else f(f"{path}/f{size % 3}", size))
        layers.append(entries)
    tree, visible, files = tree_of(*layers, budget=budget)
    assert tree.sizes[0] == visible
    assert tree.files[0] == files
    assert leaves_total(tree) == visible
