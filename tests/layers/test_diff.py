"""The pure image comparison: layers by DiffID, files by directory, packages, categories."""

from __future__ import annotations

from trimdock.layers.diff import (
    DiffSide,
    FileState,
    LayerInfo,
    PackageState,
    diff_images,
    directory_of,
    summary_parts,
)
from trimdock.layers.diffrender import headline, signed
from trimdock.layers.reclaim.classify import FinalFile, achievable, finish, plan_reclaim


def side(
    name: str,
    layers: list[tuple[str, int]],
    files: dict[str, tuple[int, str, int]],
    packages: dict[str, tuple[str, int]] | None = None,
    wasted: int = 0,
) -> DiffSide:
    ids = {diff_id: i for i, (diff_id, _) in enumerate(layers)}
    final = [FinalFile(path, b, ids[src]) for path, (b, src, _) in files.items()]
    report = finish(plan_reclaim(final, [f"RUN {d}" for d, _ in layers]), {})
    size = sum(s for _, s in layers)
    return DiffSide(
        reference=name,
        size=size,
        wasted=wasted,
        layers=tuple(LayerInfo(d, s, f"RUN {d}") for d, s in layers),
        files={p: FileState(*v) for p, v in files.items()},
        reclaim=report,
        achievable=achievable(size, wasted, report),
        packages=None if packages is None else {n: PackageState(*v) for n, v in packages.items()},
    )


A = side(
    "v1",
    [("base", 100), ("lists", 50), ("app", 10)],
    {
        "bin/sh": (100, "base", 1),
        "var/lib/apt/lists/x_Packages": (50, "lists", 1),
        "app/main": (6, "app", 1),
        "app/data": (4, "app", 1),
    },
    {"curl": ("7.88", 30), "openssl": ("3.0", 20)},
)
B = side(
    "v2",
    [("base", 100), ("app2", 13)],
    {
        "bin/sh": (100, "base", 1),
        "app/main": (9, "app2", 2),  # changed: other layer, other size
        "app/data": (4, "app2", 1),  # same size and metadata from another layer: unchanged
        "app/new": (0, "app2", 1),
    },
    {"curl": ("7.89", 31)},
)


def test_layers_shared_removed_added_by_diff_id() -> None:
    result = diff_images(A, B)
    assert [(c.status, c.diff_id, c.index_a, c.index_b) for c in result.layers] == [
        ("shared", "base", 0, 0),
        ("removed", "lists", 1, None),
        ("removed", "app", 2, None),
        ("added", "app2", None, 1),
    ]


def test_files_and_directories_add_up_to_the_visible_change() -> None:
    result = diff_images(A, B)
    files = result.files
    assert (files.added, files.removed, files.changed) == (1, 1, 1)
    assert (files.added_bytes, files.removed_bytes, files.changed_delta) == (0, 50, 3)
    visible_a = sum(f.bytes for f in A.files.values())
    visible_b = sum(f.bytes for f in B.files.values())
    assert sum(d.delta for d in result.directories) == visible_b - visible_a
    assert [(d.directory, d.delta) for d in result.directories] == [
        ("var/lib/apt", -50),
        ("app", 3),
    ]
    assert result.delta == B.size - A.size == -47


def test_packages_and_categories() -> None:
    result = diff_images(A, B)
    assert result.packages is not None
    assert [(p.name, p.status, p.version_a, p.version_b, p.delta) for p in result.packages] == [
        ("openssl", "removed", "3.0", None, -20),
        ("curl", "changed", "7.88", "7.89", 1),
    ]
    assert [(c.category, c.before, c.after) for c in result.categories] == [("apt-lists", 50, 0)]
    assert summary_parts(result) == [("apt lists", -50), ("other", 3)]
    assert headline(result) == (
        "v2 is 47 B smaller than v1 (160 B → 113 B, 29.4%): apt lists −50 B, other +3 B"
    )


def test_no_package_database_on_either_side() -> None:
    a = side("a", [("l", 1)], {"f": (1, "l", 0)})
    assert diff_images(a, a).packages is None
    assert headline(diff_images(a, a)) == "a is the same size as a (1 B)"


def test_directory_of() -> None:
    assert directory_of("f", 3) == ""
    assert directory_of("a/b/c/d/e/f", 3) == "a/b/c"
    assert directory_of("a/f", 3) == "a"
    assert signed(0) == "0 B" and signed(-1500) == "\u22121.5 kB" and signed(2) == "+2 B"
