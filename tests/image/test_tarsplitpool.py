"""Reading tar-splits on two cores gives exactly what reading each one whole gives."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from tests.image.test_tarsplit import make_tar, tar_split_lines
from trimdock.image import tarsplitpool
from trimdock.image.layercache import decode
from trimdock.image.tarparse import Window, parse
from trimdock.image.tarsplitpool import (
    TarSplitError,
    encode_layer,
    encode_layers,
    join,
    plan,
    read_head,
    read_tail,
)

STORE = Path("/var/lib/docker/image/overlay2/layerdb/sha256")


def many_files_tar(count: int, *, pax_every: int = 0) -> bytes:
    """A layer of `count` files of varied sizes, some with PAX headers (non-ASCII names)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for number in range(count):
            name = f"d{number % 7}/f{number}"
            if pax_every and number % pax_every == 0:
                name += "-é"
            data = b"x" * (number * 37 % 1500)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_tar_split(folder: Path, name: str, tar: bytes) -> Path:
    path = folder / f"{name}.json.gz"
    path.write_bytes(gzip.compress(b"".join(tar_split_lines(tar))))
    return path


def entries_of(tar: bytes) -> tuple[object, ...]:
    return tuple(entry for entry, _ in parse(Window(stream=io.BytesIO(tar))))


def test_one_layer_read_whole_matches_the_parser(tmp_path: Path) -> None:
    tar = many_files_tar(300, pax_every=11)
    decoded = decode(encode_layer(write_tar_split(tmp_path, "layer", tar)))
    assert decoded == (entries_of(tar), len(tar))


@pytest.mark.parametrize("pax_every", [0, 5])
def test_a_layer_cut_anywhere_joins_to_the_whole_layer(tmp_path: Path, pax_every: int) -> None:
    tar = many_files_tar(60, pax_every=pax_every)
    path = write_tar_split(tmp_path, "layer", tar)
    whole = decode(encode_layer(path))
    length = len(gzip.decompress(path.read_bytes()))
    assert tarsplitpool.decompressed_size(path) == length
    for cut in [*range(0, length, 97), length - 1, length]:
        joined = join(read_head(path, cut), read_tail(path, cut))
        assert joined is not None, cut
        assert decode(joined) == whole, cut


def test_parts_that_do_not_fit_are_not_joined(tmp_path: Path) -> None:
    path = write_tar_split(tmp_path, "layer", many_files_tar(40))
    cut = len(gzip.decompress(path.read_bytes())) // 2
    tail = read_tail(path, cut)
    assert tail is not None and join(read_head(path, cut), tail) is not None
    # A tail that assumed its first header elsewhere than where the head's last entry ends.
    assert join(read_head(path, cut), replace(tail, offset=tail.offset + 512)) is None
    # A head that did not reach the end is not a whole layer.
    assert join(read_head(path, cut), None) is None
    # A head that read the end of the archive before the cut, and a tail after it.
    stray = write_tar_split(tmp_path, "stray", many_files_tar(3))
    with_more = stray.with_name("more.json.gz")
    with_more.write_bytes(gzip.compress(gzip.decompress(stray.read_bytes()) * 2))
    end = len(gzip.decompress(stray.read_bytes()))
    more_tail = read_tail(with_more, end)
    assert more_tail is not None
    assert join(read_head(with_more, end), more_tail) is None


def test_the_plan_gives_each_core_about_half_and_cuts_one_layer() -> None:
    layout = plan([10, 100, 5, 5])
    assert layout.mine == (0,)
    assert layout.theirs == (2, 3)
    assert layout.cut is not None and layout.cut[0] == 1
    assert plan([100]).cut == (0, 53)
    assert plan([53, 47]) == tarsplitpool._Plan((0,), (1,), None)


def store_tar_splits() -> list[Path]:
    """The engine's own records (the base images the suite builds are always there)."""
    paths = sorted(STORE.glob("*/tar-split.json.gz")) if os.access(STORE, os.R_OK) else []
    if not paths:
        pytest.skip("the engine's layer store is not readable here")
    return paths


def test_two_cores_read_the_engines_records_as_one_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    paths = store_tar_splits()
    made = [
        write_tar_split(tmp_path, f"made{n}", many_files_tar(500 + n, pax_every=9))
        for n in range(2)
    ]
    paths = [*made, *paths]
    monkeypatch.setattr(tarsplitpool, "MIN_SPLIT", 0)
    # Equal once decoded (a cut layer's frames are cut where the two parts meet).
    assert [decode(data) for data in encode_layers(paths)] == [
        decode(encode_layer(path)) for path in paths
    ]


def test_a_failed_child_costs_time_not_results(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    paths = [write_tar_split(tmp_path, f"layer{n}", many_files_tar(200 + 50 * n)) for n in range(4)]
    monkeypatch.setattr(tarsplitpool, "MIN_SPLIT", 0)
    monkeypatch.setattr(tarsplitpool, "_serve", lambda *_: os._exit(3))
    assert encode_layers(paths) == [encode_layer(path) for path in paths]


@pytest.mark.parametrize("split", [True, False])
@pytest.mark.parametrize("bad", [0, 2, 3])
def test_a_damaged_record_names_its_layer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, split: bool, bad: int
) -> None:
    paths = [write_tar_split(tmp_path, f"layer{n}", many_files_tar(100 + 10 * n)) for n in range(4)]
    lines = tar_split_lines(make_tar(tarfile.GNU_FORMAT))
    paths[bad].write_bytes(gzip.compress(b"".join([*lines[:3], b"{}\n", *lines[3:]])))
    monkeypatch.setattr(tarsplitpool, "MIN_SPLIT", 0 if split else 1 << 40)
    with pytest.raises(TarSplitError, match="unknown format") as raised:
        encode_layers(paths)
    assert raised.value.index == bad


def test_a_missing_record_is_named_on_either_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    paths = [write_tar_split(tmp_path, f"layer{n}", many_files_tar(100)) for n in range(3)]
    paths[1].unlink()
    monkeypatch.setattr(tarsplitpool, "MIN_SPLIT", 0)
    with pytest.raises(TarSplitError) as raised:
        encode_layers(paths)
    assert raised.value.index == 1 and isinstance(raised.value.cause, FileNotFoundError)


@pytest.mark.parametrize("split", [True, False])
def test_each_layer_is_reported_done_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, split: bool
) -> None:
    paths = [write_tar_split(tmp_path, f"layer{n}", many_files_tar(100 + n)) for n in range(5)]
    monkeypatch.setattr(tarsplitpool, "MIN_SPLIT", 0 if split else 1 << 40)
    seen: list[int] = []
    encode_layers(paths, seen.append)
    assert sorted(seen) == list(range(5))
