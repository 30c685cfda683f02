"""Filesystem at layer N, export, extraction, and refusing to write outside the target."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.layers.builders import content, d, entry, image, ln, opq, sym, wh
from trimdock.errors import UnsafePathError, UsageError
from trimdock.image.model import EntryType, LayerEntry
from trimdock.layers.timetravel import (
    check_layer_index,
    export_at,
    extract_path,
    filesystem_at,
    last_visible_layer,
    normalise_request,
    overlay_at,
)


def sample():  # type: ignore[no-untyped-def]
    return image(
        [
            [
                entry(d("app")),
                content("app/main.sh", b"echo v1\n", mode=0o755),
                content("app/data.bin", b"x" * 5000),
                entry(ln("app/data-link", "app/data.bin")),
                entry(sym("app/current", "main.sh")),
                content("app/suid", b"#!", mode=0o4755),
            ],
            [entry(d("app")), entry(wh("app/data.bin")), content("app/main.sh", b"echo v2\n")],
            [entry(d("app")), entry(opq("app")), content("app/only", b"late")],
        ]
    )


def tree(root: Path) -> dict[str, str]:
    result: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            result[rel] = "-> " + os.readlink(path)
        elif path.is_dir():
            result[rel] = "dir"
        else:
            result[rel] = path.read_text()
    return result


def test_filesystem_at_each_layer_lists_the_visible_entries() -> None:
    img = sample()
    at1 = {e.path: (e.type, e.bytes, e.layer) for e in filesystem_at(overlay_at(img.layers, 1))}
    assert at1 == {
        "app": ("dir", 0, 1),
        "app/main.sh": ("file", 8, 1),
        "app/data-link": ("hardlink", 0, 0),
        "app/current": ("symlink", 7, 0),
        "app/suid": ("file", 2, 0),
    }
    at2 = [e.path for e in filesystem_at(overlay_at(img.layers, 2))]
    assert at2 == ["app", "app/only"]


def test_export_writes_the_filesystem_after_layer_n(tmp_path: Path) -> None:
    img = sample()
    target = tmp_path / "fs1"
    summary = export_at(img.layers, 1, target)
    assert tree(target) == {
        "app": "dir",
        "app/current": "-> main.sh",
        "app/data-link": "x" * 5000,  # the bytes of a deleted name survive through its link
        "app/main.sh": "echo v2\n",
        "app/suid": "#!",
    }
    assert (summary.files, summary.symlinks, summary.bytes) == (3, 1, 5010)
    assert (target / "app/suid").stat().st_mode & 0o7777 == 0o755  # set-user-ID dropped
    assert [p.name for p in tmp_path.iterdir()] == ["fs1"]  # no temporary left behind


def test_export_refuses_a_non_empty_target_and_leaves_it_alone(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "mine").write_text("keep")
    with pytest.raises(UsageError, match="not empty"):
        export_at(sample().layers, 0, target)
    assert tree(target) == {"mine": "keep"}


def test_extract_recovers_a_deleted_file_from_its_last_layer(tmp_path: Path) -> None:
    img = sample()
    wanted = normalise_request("/app/data.bin")
    index = last_visible_layer(img.layers, wanted)
    assert index == 0
    extract_path(img.layers, index, wanted, tmp_path)
    assert (tmp_path / "data.bin").read_bytes() == b"x" * 5000
    with pytest.raises(UsageError, match="already exists"):
        extract_path(img.layers, index, wanted, tmp_path)


def test_extract_a_directory_and_an_older_version(tmp_path: Path) -> None:
    img = sample()
    extract_path(img.layers, 0, "app/main.sh", tmp_path / "old.sh")
    assert (tmp_path / "old.sh").read_text() == "echo v1\n"
    extract_path(img.layers, 2, "app", tmp_path / "app2")
    assert tree(tmp_path / "app2") == {"only": "late"}


def test_layer_index_and_request_validation() -> None:
    assert check_layer_index(-1, 3) == 2
    with pytest.raises(UsageError, match="layer 3 does not exist"):
        check_layer_index(3, 3)
    with pytest.raises(UnsafePathError):
        normalise_request("/app/../../etc/passwd")
    with pytest.raises(UsageError, match="no layer of the image has '/nope'"):
        last_visible_layer(sample().layers, "nope")


# -- hostile layers -------------------------------------------------------------------------------


def raw(path: str, kind: EntryType, link: str = "", data: bytes = b"") -> tuple[LayerEntry, bytes]:
    return LayerEntry(path, kind, len(data), 0o644, link=link), data


@pytest.mark.parametrize(
    "layers",
    [
        [[raw("../escape", EntryType.FILE, data=b"owned")]],
        [[raw("a", EntryType.FILE, data=b"1"), raw("b", EntryType.HARDLINK, link="../../x")]],
    ],
    ids=["dotdot-entry", "hardlink-outside"],
)
def test_traversal_is_refused_and_nothing_is_written(tmp_path: Path, layers: list) -> None:  # type: ignore[type-arg]
    target = tmp_path / "out"
    with pytest.raises(UnsafePathError):
        export_at(image(layers).layers, 0, target)
    assert list(tmp_path.iterdir()) == []


def test_symlink_escape_is_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    img = image(
        [
            [
                raw("etc", EntryType.SYMLINK, link=str(outside)),
                raw("lnk", EntryType.SYMLINK, link="/"),
            ],
            [
                raw("etc/passwd", EntryType.FILE, data=b"root"),
                raw("lnk/x", EntryType.FILE, data=b"y"),
            ],
        ]
    )
    target = tmp_path / "out"
    export_at(img.layers, 1, target)
    assert list(outside.iterdir()) == []
    assert tree(target) == {"etc": "dir", "etc/passwd": "root", "lnk": "dir", "lnk/x": "y"}
    # The symlink layer alone is exported as symlinks, never followed.
    export_at(img.layers, 0, tmp_path / "out0")
    assert tree(tmp_path / "out0") == {"etc": f"-> {outside}", "lnk": "-> /"}
    extract_path(img.layers, 0, "etc", tmp_path / "etc-link")
    assert os.readlink(tmp_path / "etc-link") == str(outside)
    assert list(outside.iterdir()) == []


def test_failed_export_removes_its_partial_output(tmp_path: Path) -> None:
    # The header says 10 bytes; the data has 3: a corrupt layer stops the export midway.
    bad = (LayerEntry("a/big", EntryType.FILE, 10, 0o644), b"abc")
    img = image([[entry(d("a")), content("a/ok", b"fine"), bad]])
    with pytest.raises(Exception, match="header says 10"):
        export_at(img.layers, 0, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
