"""The image file lists `--verify` compares (pure: layers given as entry lists)."""

from __future__ import annotations

from trimdock.context.filelist import Difference, FileState, compare, file_list
from trimdock.image.model import EntryType, LayerEntry


def _file(path: str, size: int, mode: int = 0o644) -> LayerEntry:
    return LayerEntry(path, EntryType.FILE, size, mode)


def _dir(path: str) -> LayerEntry:
    return LayerEntry(path, EntryType.DIR, 0, 0o755)


def test_later_layers_replace_and_delete() -> None:
    base = [_dir("app"), _file("app/a", 3), _file("app/b", 4), _dir("etc")]
    top = [_file("app/a", 5, 0o600), LayerEntry("app/.wh.b", EntryType.FILE, 0, 0o644)]
    assert file_list([base, top]) == {
        "/app": FileState("dir", 0, 0o755),
        "/app/a": FileState("file", 5, 0o600),
        "/etc": FileState("dir", 0, 0o755),
    }


def test_an_opaque_directory_hides_what_was_below() -> None:
    base = [_dir("d"), _file("d/old", 1)]
    top = [_dir("d"), LayerEntry("d/.wh..wh..opq", EntryType.FILE, 0, 0o644), _file("d/new", 2)]
    assert set(file_list([base, top])) == {"/d", "/d/new"}


def test_compare_reports_presence_size_kind_and_mode_not_equal_rows() -> None:
    before = {
        "/same": FileState("file", 1, 0o644),
        "/gone": FileState("file", 2, 0o644),
        "/size": FileState("file", 3, 0o644),
        "/mode": FileState("file", 3, 0o644),
        "/kind": FileState("dir", 0, 0o755),
    }
    after = {
        "/same": FileState("file", 1, 0o644),
        "/new": FileState("file", 9, 0o644),
        "/size": FileState("file", 4, 0o644),
        "/mode": FileState("file", 3, 0o755),
        "/kind": FileState("file", 0, 0o755),
    }
    assert [d.path for d in compare(before, after)] == ["/gone", "/kind", "/mode", "/new", "/size"]
    assert compare(before, before) == ()
    assert Difference("/gone", before["/gone"], None).to_json() == {
        "path": "/gone",
        "before": {"kind": "file", "size": 2, "mode": "0644"},
        "after": None,
    }
