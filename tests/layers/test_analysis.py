"""Exact waste and blame on hand-made layers, checked against a brute-force overlay model."""

from __future__ import annotations

import gc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.layers.builders import d, f, ln, opq, sym, wh
from trimdock.errors import UnsafePathError
from trimdock.image.model import EntryType, LayerEntry
from trimdock.layers.analysis import WasteAnalysis, WastedPath, analyze_layers, summarize
from trimdock.layers.overlay import FREEZE_AFTER, Overlay


def run(*layers: list[LayerEntry], **kwargs: object) -> WasteAnalysis:
    return analyze_layers(layers, **kwargs)  # type: ignore[arg-type]


def test_single_file_delete_is_wasted_and_blamed_on_the_deleting_layer() -> None:
    a = run([d("data"), f("data/big", 100_000), f("data/keep", 5)], [d("data"), wh("data/big")])
    assert a.size == 100_005
    assert a.wasted == 100_000
    assert a.visible_size == 5
    assert [layer.wasted for layer in a.layers] == [100_000, 0]
    assert [layer.hidden for layer in a.layers] == [0, 100_000]
    assert a.layers[1].files_deleted == 1
    assert a.wasted_paths == (WastedPath("data/big", "deleted", 100_000, 1, 0, 1),)


def test_directory_delete_wastes_everything_below_it_as_one_blamed_path() -> None:
    lower = [d("d"), d("d/sub"), f("d/a", 200_000), f("d/b", 50_000), f("d/sub/c", 30_000)]
    a = run([f("x", 1)], lower, [wh("d")])
    assert a.wasted == 280_000
    assert a.layers[1].wasted == 280_000
    assert a.layers[2].files_deleted == 3
    assert a.wasted_paths == (WastedPath("d", "deleted", 280_000, 3, 1, 2),)
    # dive counts a directory delete as zero waste.
    assert a.dive.wasted_bytes == 0
    assert a.dive.efficiency == 1.0


@pytest.mark.parametrize("opq_first", [True, False])
def test_opaque_directory_hides_lower_children_but_keeps_its_own(opq_first: bool) -> None:
    upper = [d("o"), f("o/new", 1_000), d("o/sub"), f("o/sub/n2", 7)]
    upper.insert(1 if opq_first else len(upper), opq("o"))
    a = run([d("o"), d("o/sub"), f("o/old", 64_000), f("o/sub/old2", 36_000)], upper)
    assert a.wasted == 100_000
    assert a.visible_size == 1_007
    assert a.wasted_paths == (WastedPath("o", "opaque", 100_000, 2, 0, 1),)
    assert a.dive.wasted_bytes == 0  # dive ignores opaque directories


def test_overwrite_wastes_the_lower_copy_and_dive_counts_both_copies() -> None:
    a = run([d("w"), f("w/f", 40_000, mtime=1)], [d("w"), f("w/f", 45_000, mtime=2)])
    assert a.wasted == 40_000
    assert a.wasted_paths[0].kind == "overwritten"
    assert a.layers[1].files_modified == 1
    assert a.dive.wasted_bytes == 85_000
    assert a.dive.efficiency == pytest.approx(40_000 / 85_000)


def test_metadata_only_change_copies_the_whole_file() -> None:
    a = run([f("c", 70_000, mode=0o644)], [f("c", 70_000, mode=0o600)])
    assert a.wasted == 70_000
    assert a.wasted_paths[0].kind == "metadata"
    assert a.dive.wasted_bytes == 140_000


def test_hard_links_count_once_and_are_wasted_only_when_every_name_is_gone() -> None:
    lower = [d("h"), f("h/a", 50_000), ln("h/b", "h/a"), f("h/c", 20_000), ln("h/d", "h/c")]
    a = run(lower, [d("h"), wh("h/a"), wh("h/c"), wh("h/d")])
    assert a.size == 70_000
    assert a.wasted == 20_000
    assert a.visible_size == 50_000
    assert a.wasted_paths == (WastedPath("h/d", "deleted", 20_000, 1, 0, 1),)


def test_hard_link_into_a_lower_layer_keeps_the_lower_bytes_visible() -> None:
    a = run([f("a", 10)], [ln("b", "a")], [wh("a")])
    assert (a.wasted, a.visible_size) == (0, 10)


def test_directory_replaced_by_a_file_wastes_the_subtree() -> None:
    a = run([d("p"), f("p/x", 30), f("p/y", 12)], [f("p", 5)])
    assert a.wasted == 42
    assert a.wasted_paths == (WastedPath("p", "replaced", 42, 2, 0, 1),)


def test_symlinks_count_their_target_length_like_the_engine() -> None:
    a = run([sym("bin/sh", "busybox")], [wh("bin/sh"), sym("bin/ls", "/bin/busybox")])
    assert [layer.size for layer in a.layers] == [7, 12]
    assert a.wasted == 7
    assert a.dive.size == 0  # dive sizes symlinks by their (zero) tar size


def test_entry_below_a_symlink_replaces_it_instead_of_following_it() -> None:
    a = run([sym("etc", "/host-etc")], [f("etc/passwd", 3)])
    assert a.wasted_paths == (WastedPath("etc", "replaced", 9, 1, 0, 1),)


def test_duplicate_path_in_one_layer_last_entry_wins() -> None:
    a = run([f("a", 10, mtime=1), f("a", 4, mtime=2)])
    assert (a.size, a.visible_size, a.wasted) == (14, 4, 10)


def test_empty_layers_and_unknown_aufs_metadata_change_nothing() -> None:
    a = run([f("a", 3)], [], [f(".wh..wh.plnk/1.2", 0)], [])
    assert (a.size, a.wasted, len(a.layers)) == (3, 0, 4)


@pytest.mark.parametrize(
    "layer",
    [[f("../etc/passwd", 1)], [f("a", 1), ln("b", "../../etc/shadow")], [f("/abs", 1)]],
)
def test_path_traversal_is_refused_with_the_layer_named(layer: list[LayerEntry]) -> None:
    with pytest.raises(UnsafePathError, match=r"img: layer 0: .*climbs above the image root"):
        analyze_layers([layer], source="img")


def test_dive_user_wasted_percent_is_relative_to_layers_above_the_first() -> None:
    a = run([f("base", 1_000)], [f("f", 30), f("g", 70)], [wh("f")])
    assert a.dive.wasted_bytes == 30
    assert a.dive.user_size == 100
    assert a.dive.user_wasted_percent == pytest.approx(30.0)
    assert run([f("a", 1)]).dive.user_wasted_percent is None


def test_dive_sizes_a_whiteout_of_an_explicit_directory_by_its_contents() -> None:
    # An empty directory is a leaf in its layer; its later whiteout carries the directory's
    # stacked size, so dive counts both observations (0 and 300) as waste.
    a = run([d("e")], [d("e"), f("e/x", 300)], [wh("e")])
    assert a.dive.wasted_bytes == 300
    assert a.dive.inefficient_files[0].path == "/e"
    assert a.wasted == 300
    # An implied parent (no directory entry in the layer) has an empty payload in dive: its
    # whiteout then counts zero.
    assert run([d("e")], [f("e/x", 300)], [wh("e")]).dive.wasted_bytes == 0


def test_top_limits_the_list_but_not_the_totals() -> None:
    a = run([f(f"f{i}", 10 + i) for i in range(5)], [wh(f"f{i}") for i in range(5)], top=2)
    assert [w.path for w in a.wasted_paths] == ["f4", "f3"]
    assert a.wasted_path_count == 5
    assert a.wasted == sum(10 + i for i in range(5))


def test_hidden_files_are_recorded_on_request() -> None:
    a = run([d("d"), f("d/a", 5), f("d/b", 6)], [wh("d")], record_hidden=True)
    assert sorted((h.path, h.bytes, h.kind, h.shipped_in, h.hidden_by) for h in a.hidden_files) == [
        ("d/a", 5, "deleted", 0, 1),
        ("d/b", 6, "deleted", 0, 1),
    ]


# -- against a brute-force model ------------------------------------------------------------------


def brute_force(layers: list[list[LayerEntry]]) -> tuple[dict[str, tuple[str, int]], int, int]:
    """Apply layers with a flat dict and prefix scans.

    Returns (visible path -> (type, bytes), total shipped bytes, visible bytes with hard-linked
    bytes counted once).
    """
    fs: dict[str, tuple[str, int, int]] = {}  # path -> (type, bytes, layer)
    inode_of: dict[str, int] = {}  # file or hard link path -> inode number
    inode_bytes: dict[int, int] = {}
    total = 0

    def remove_tree(path: str, keep_layer: int | None = None) -> None:
        for key in [k for k in fs if k == path or k.startswith(path + "/")]:
            if keep_layer is None or fs[key][2] != keep_layer:
                del fs[key]

    for index, layer in enumerate(layers):
        for e in layer:
            parent, _, name = e.path.rpartition("/")
            parts = e.path.split("/")
            # The engine creates missing parents of every entry, whiteouts included.
            for i in range(1, len(parts)):
                ancestor = "/".join(parts[:i])
                if ancestor in fs and fs[ancestor][0] != "dir":
                    del fs[ancestor]
                # The directory is part of this layer now, whatever layer made it first.
                fs[ancestor] = ("dir", 0, index)
            if name == ".wh..wh..opq":
                for key in [k for k in fs if k.startswith(parent + "/") if fs[k][2] != index]:
                    del fs[key]
                continue
            if name.startswith(".wh."):
                remove_tree(f"{parent}/{name[4:]}" if parent else name[4:], keep_layer=index)
                continue
            nbytes = e.size if e.type is EntryType.FILE else 0
            total += nbytes
            if e.type is EntryType.HARDLINK:
                linkable = e.link in fs and fs[e.link][0] in ("file", "hardlink")
                target_inode = inode_of.get(e.link) if linkable else None
            if e.type is not EntryType.DIR:
                remove_tree(e.path)
            fs[e.path] = (e.type.value, nbytes, index)
            inode_of.pop(e.path, None)
            if e.type is EntryType.FILE:
                inode_of[e.path] = len(inode_bytes)
                inode_bytes[len(inode_bytes)] = nbytes
            elif e.type is EntryType.HARDLINK and target_inode is not None:
                inode_of[e.path] = target_inode
    visible_inodes = {inode_of[k] for k, v in fs.items() if k in inode_of and v[0] != "dir"}
    visible = sum(inode_bytes[i] for i in visible_inodes)
    return {k: (v[0], v[1]) for k, v in fs.items()}, total, visible


names = st.sampled_from(["a", "b", "c"])
paths = st.lists(names, min_size=1, max_size=3).map("/".join)


@st.composite
def layer_entries(draw: st.DrawFn) -> list[LayerEntry]:
    entries: list[LayerEntry] = []
    written: set[str] = set()
    files: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        path = draw(paths)
        kind = draw(st.sampled_from(["file", "dir", "wh", "opq", "link"]))
        # A well-formed layer never whites out a path it also writes.
        if kind == "wh" and not any(w == path or w.startswith(path + "/") for w in written):
            entries.append(wh(path))
        elif kind == "opq" and "/" in path:
            entries.append(opq(path.rsplit("/", 1)[0]))
        elif kind == "dir":
            entries.append(d(path))
            written.add(path)
        elif kind == "file" and not any(w.startswith(path + "/") for w in written):
            entries.append(f(path, draw(st.integers(0, 1000))))
            written.add(path)
            files.append(path)
        elif kind == "link" and files and not any(w.startswith(path + "/") for w in written):
            target = draw(st.sampled_from(files))
            if target != path:
                entries.append(ln(path, target))
                written.add(path)
    return entries


@settings(max_examples=300, deadline=None)
@given(st.lists(layer_entries(), min_size=1, max_size=5))
def test_matches_a_brute_force_overlay_and_every_byte_is_accounted(
    layers: list[list[LayerEntry]],
) -> None:
    expected, total, visible = brute_force(layers)
    overlay = Overlay()
    for layer in layers:
        overlay.apply(layer)
    seen = {path: (node_type(node.e_kind), node.e_nbytes) for path, node in overlay.walk()}
    assert seen == expected
    a = analyze_layers(layers)
    assert a.size == total
    assert a.visible_size == visible
    assert a.size == a.visible_size + a.wasted
    assert sum(layer.wasted for layer in a.layers) == a.wasted
    assert sum(layer.hidden for layer in a.layers) == a.wasted


def node_type(kind: int) -> str:
    return {1: "dir", 2: "file", 4: "hardlink"}[kind]


def test_summarize_releases_the_bookkeeping_only_it_reads_and_keeps_the_filesystem() -> None:
    overlay = Overlay()
    overlay.apply([d("w"), f("w/f", 40_000, mtime=1), f("w/g", 9)])
    overlay.apply([d("w"), f("w/f", 45_000, mtime=2), wh("w/g")])
    a = summarize(overlay)
    assert a.wasted_paths[0] == WastedPath("w/f", "overwritten", 40_000, 1, 0, 1)
    assert [file.path for file in a.dive.inefficient_files] == ["/w/f", "/w/g"]
    # dive's records and the wasted groups are gone; the exact filesystem is intact.
    assert overlay.groups == {} and overlay.f_repeated == []
    node = overlay.lookup("w/f")
    assert node is not None and node.f == -1
    assert [(path, n.e_nbytes) for path, n in overlay.walk()] == [("w", 0), ("w/f", 45_000)]
    with pytest.raises(RuntimeError):
        summarize(overlay)
    with pytest.raises(RuntimeError):
        overlay.apply([f("x", 1)])


def test_nodes_share_one_int_object_per_mtime_mode_and_size() -> None:
    overlay = Overlay()
    # Built apart, as decoded headers would be, so only the overlay can make them one object.
    mtime, size = int("1700000000"), int("123456")
    overlay.apply([f(f"a{i}", int(str(size)), mtime=int(str(mtime))) for i in range(3)])
    nodes = [overlay.lookup(f"a{i}") for i in range(3)]
    assert all(n is not None for n in nodes)
    metas = {id(n.e_meta) for n in nodes if n is not None}
    sizes = {id(n.e_nbytes) for n in nodes if n is not None}
    assert len(metas) == 1 and len(sizes) == 1
    first = nodes[0]
    assert first is not None and first.e_mtime == mtime and first.e_mode == 0o644
    assert first.e_nbytes == size and first.d_size == size


@pytest.mark.parametrize("collecting", [True, False])
def test_apply_leaves_the_cycle_collector_as_it_found_it_even_on_bad_input(
    collecting: bool,
) -> None:
    was = gc.isenabled()
    (gc.enable if collecting else gc.disable)()
    try:
        overlay = Overlay()
        overlay.apply([f("a", 1)])
        assert gc.isenabled() is collecting
        with pytest.raises(UnsafePathError):
            overlay.apply([f("../escape", 1)])
        assert gc.isenabled() is collecting
    finally:
        (gc.enable if was else gc.disable)()


def test_only_a_big_layer_moves_the_live_objects_out_of_the_collectors_sight() -> None:
    gc.unfreeze()
    try:
        overlay = Overlay()
        overlay.apply([f(f"small{i}", 1) for i in range(FREEZE_AFTER - 1)])
        assert gc.get_freeze_count() == 0
        overlay.apply([f(f"big{i}", 1) for i in range(FREEZE_AFTER)])
        frozen = gc.get_freeze_count()
        assert frozen > 2 * FREEZE_AFTER  # both layers' nodes
        # Frozen nodes are still freed by reference counting.
        del overlay
        assert gc.get_freeze_count() < frozen - 2 * FREEZE_AFTER
    finally:
        gc.unfreeze()
