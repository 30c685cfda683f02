"""Archive layers and the per-layer cache: a verified read keeps its headers by DiffID, later
reads decode them instead of parsing the layer, and the digest check still runs every time."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

import trimdock.image.layer
from trimdock.cache.store import ResultCache
from trimdock.cli.main import run
from trimdock.errors import ImageSourceError
from trimdock.image.layercache import LayerCache
from trimdock.image.open import open_image

from .conftest import BuiltImage


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TRIMDOCK_CACHE_DIR", str(folder))
    monkeypatch.delenv("TRIMDOCK_CACHE_MAX", raising=False)
    return folder


def _report(capsys: pytest.CaptureFixture[str], reference: str, *flags: str) -> dict:  # type: ignore[type-arg]
    capsys.readouterr()
    assert run(["layers", reference, *flags, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def _cached(folder: Path, diff_ids: list[str]) -> list[bool]:
    layers = LayerCache(ResultCache(folder, 1 << 30))
    return [layers.load_encoded(diff_id) is not None for diff_id in diff_ids]


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the layer was parsed")

    monkeypatch.setattr(trimdock.image.layer, "parse", refuse)


def test_a_verified_read_caches_the_headers_and_the_next_read_uses_them(
    basic_image: BuiltImage,
    cache_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference = f"docker-archive:{basic_image.archive}"
    diff_ids = basic_image.inspect["RootFS"]["Layers"]
    first = _report(capsys, reference, "--no-reclaim")
    assert _cached(cache_dir, diff_ids) == [True] * len(diff_ids)
    _no_parsing(monkeypatch)  # from here on, a parsed layer fails the test
    assert _report(capsys, reference, "--no-reclaim") == first


def test_no_verify_neither_reads_nor_writes_the_cache(
    basic_image: BuiltImage, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    diff_ids = basic_image.inspect["RootFS"]["Layers"]
    _report(capsys, f"docker-archive:{basic_image.archive}", "--no-verify", "--no-reclaim")
    assert _cached(cache_dir, diff_ids) == [False] * len(diff_ids)


def _tampered_copy(image: BuiltImage, folder: Path) -> Path:
    """A copy of the image's archive with layer 3's bytes changed: same size, headers still
    valid, the same claimed DiffID."""
    data = bytearray(image.archive.read_bytes())
    with tarfile.open(image.archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        member = outer.getmember(manifest[0]["Layers"][3])
    at = data.index(b"two two\n", member.offset_data, member.offset_data + member.size)
    data[at : at + 8] = b"TWO TWO\n"
    tampered = folder / "tampered.tar"
    tampered.write_bytes(bytes(data))
    return tampered


def test_cached_headers_do_not_skip_the_digest_check(
    basic_image: BuiltImage,
    cache_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The genuine archive fills the cache; a copy with one layer's bytes changed (same size,
    # same claimed DiffID) must still fail, though its headers now come from the cache.
    _report(capsys, f"docker-archive:{basic_image.archive}", "--no-reclaim")
    tampered = _tampered_copy(basic_image, tmp_path)
    _no_parsing(monkeypatch)
    expected = basic_image.inspect["RootFS"]["Layers"][3]
    with (
        pytest.raises(ImageSourceError, match=f"DiffID mismatch: expected {expected}"),
        open_image(f"docker-archive:{tampered}") as image,
    ):
        for layer in image.layers:
            list(layer.content.entries())


@pytest.mark.parametrize("warm", [False, True], ids=["parsed", "cached"])
def test_layers_reports_nothing_from_a_tampered_archive_when_its_checks_are_deferred(
    basic_image: BuiltImage,
    cache_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    warm: bool,
) -> None:
    # `layers` lets the digest worker run on past each layer and checks every digest before
    # the report: a changed layer must still end the run with the mismatch and no output.
    if warm:
        _report(capsys, f"docker-archive:{basic_image.archive}")
    tampered = _tampered_copy(basic_image, tmp_path)
    capsys.readouterr()
    for fmt in ("json", "text"):
        assert run(["layers", f"docker-archive:{tampered}", "--format", fmt]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert "DiffID mismatch" in captured.err and captured.err.count("\n") == 1
