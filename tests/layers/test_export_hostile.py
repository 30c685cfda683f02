"""Exports of crafted layers: duplicate entries, hostile times, symlinked destinations, and no
staging folder left behind whatever stops the export (issue 8: items 4, 10, 12, 15)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.image.hostile import (
    base256,
    docker_archive,
    end,
    file_entry,
    header,
    layer,
    pax,
)
from tests.layers import builders as b
from trimdock.cli.main import run
from trimdock.errors import UsageError
from trimdock.layers import timetravel
from trimdock.layers.timetravel import MTIME_MAX, export_at, extract_path

DUPLICATES = layer(
    ("a", b"old\n", "file"),
    ("keep", "a", "hardlink"),  # made to the old `a`: keeps its bytes
    ("a", b"new\n", "file"),
    ("s", "first", "symlink"),
    ("s", "second", "symlink"),  # listed twice: the later one wins
    ("late", "a", "hardlink"),  # made to the new `a`
)


def tree(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            found[rel] = path.read_text()
    return found


def test_duplicate_entries_export_as_a_tar_extraction_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = docker_archive(tmp_path / "dup.tar", [DUPLICATES])
    target = tmp_path / "out"
    code = run(["layers", f"docker-archive:{archive}", "--at", "0", "--export", str(target)])
    assert code == 0, capsys.readouterr().err
    expected = {"a": "new\n", "keep": "old\n", "late": "new\n", "s": "-> second"}
    assert tree(target) == expected
    assert os.stat(target / "late").st_ino == os.stat(target / "a").st_ino
    assert os.stat(target / "keep").st_ino != os.stat(target / "a").st_ino
    if shutil.which("tar"):
        # The oracle: what extracting the same layer tar gives.
        oracle = tmp_path / "oracle"
        oracle.mkdir()
        (tmp_path / "layer.tar").write_bytes(DUPLICATES)
        subprocess.run(["tar", "-xf", str(tmp_path / "layer.tar"), "-C", str(oracle)], check=True)
        assert tree(oracle) == expected


def test_extract_of_a_link_to_a_replaced_file_keeps_the_old_bytes(tmp_path: Path) -> None:
    image = b.image(
        [
            [
                b.content("a", b"old"),
                b.entry(b.ln("keep", "a")),
                b.content("a", b"new"),
            ]
        ]
    )
    extract_path(image.layers, 0, "keep", tmp_path / "keep")
    assert (tmp_path / "keep").read_bytes() == b"old"
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


@pytest.mark.parametrize(
    "mtime",
    [
        pax({"mtime": "99999999999999999999999"}),
        header(b"PaxPad")[:0],  # no pax: a huge base-256 time in the header itself
    ],
    ids=["pax", "base256"],
)
def test_huge_mtimes_are_clamped_on_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mtime: bytes
) -> None:
    entry = file_entry(b"f", b"data", mtime=base256(1 << 80) if not mtime else b"00000000000\0")
    archive = docker_archive(tmp_path / "t.tar", [mtime + entry + end()])
    target = tmp_path / "out"
    code = run(["layers", f"docker-archive:{archive}", "--at", "0", "--export", str(target)])
    assert code == 0, capsys.readouterr().err
    assert (target / "f").read_bytes() == b"data"
    assert os.stat(target / "f").st_mtime_ns <= MTIME_MAX * 10**9
    code = run(
        ["layers", f"docker-archive:{archive}", "--extract", "/f", "--to", str(tmp_path / "g")]
    )
    assert code == 0, capsys.readouterr().err


def test_a_symlinked_destination_is_refused_by_export_and_extract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = docker_archive(tmp_path / "i.tar", [layer(("d", None, "dir"), ("d/f", b"x", "file"))])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "link"
    link.symlink_to(elsewhere)
    for args in (["--at", "0", "--export", str(link)], ["--extract", "/d/f", "--to", str(link)]):
        code = run(["layers", f"docker-archive:{archive}", *args])
        err = capsys.readouterr().err
        assert code == 2
        assert err == f"trimdock: {link}: is a symbolic link; give a real directory or a new name\n"
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(1), UsageError("boom")], ids=str)
@pytest.mark.parametrize("action", ["export", "extract"])
def test_an_interrupted_export_leaves_no_staging_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException, action: str
) -> None:
    image = b.image([[b.entry(b.d("d")), b.content("d/f", b"x" * 10)]])
    real = timetravel._write_file

    def failing(*args: object, **kwargs: object) -> int:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise exc

    monkeypatch.setattr(timetravel, "_write_file", failing)
    with pytest.raises(type(exc)):
        if action == "export":
            export_at(image.layers, 0, tmp_path / "out")
        else:
            extract_path(image.layers, 0, "d/f", tmp_path / "f")
    assert list(tmp_path.iterdir()) == []


def test_the_staging_folder_is_removed_even_when_interrupted_at_creation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_mkdir = os.mkdir

    def mkdir_then_interrupt(path: object, mode: int = 0o777) -> None:
        real_mkdir(path, mode)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # as if the signal arrived just after the directory existed

    monkeypatch.setattr(timetravel.os, "mkdir", mkdir_then_interrupt)
    image = b.image([[b.content("f", b"x")]])
    with pytest.raises(KeyboardInterrupt):
        export_at(image.layers, 0, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
