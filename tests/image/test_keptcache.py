"""The per-layer cache of kept bodies, digests and a request's reads (`image.keptcache`): a
round trip keeps everything, any other shape is a miss, and the reads' key holds the DiffID and
the request's selection (a different selection never sees another's reads)."""

from __future__ import annotations

import io
import marshal
import zlib
from pathlib import Path

import pytest

from trimdock.cache.store import ResultCache
from trimdock.image.kept import KeptLayer, code_key, content_digest
from trimdock.image.keptcache import (
    KEPT,
    KeptCache,
    decode_kept,
    decode_reads,
    encode_kept,
    encode_reads,
    reads_key,
)
from trimdock.security.scanner import scan_request

LAYER = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64


def _kept() -> KeptLayer:
    return KeptLayer(
        bodies={"var/lib/dpkg/status": b"Package: bash\n\n", "var/lib/dpkg/info/bash.list": b""},
        digests={"usr/bin/bash": content_digest(io.BytesIO(b"x" * 20_000))},
        reads={0: b"ID=debian\n", 3: None, 7: b""},
    )


def test_kept_bodies_and_digests_round_trip_without_the_reads() -> None:
    kept = _kept()
    decoded = decode_kept(encode_kept(kept))
    assert decoded == KeptLayer(bodies=kept.bodies, digests=kept.digests)


def test_reads_round_trip_by_position() -> None:
    reads = _kept().reads
    assert decode_reads(encode_reads(reads)) == reads
    assert decode_reads(encode_reads({})) == {}


def _packed(value: object) -> bytes:
    return zlib.compress(marshal.dumps(value))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not zlib",
        _packed(None),
        _packed(((("path", "not bytes"),), ())),
        _packed(((), (("path", b"short"),))),
        _packed(((), ((1, b"x" * 16),))),
        _packed(((), (), ())),
    ],
)
def test_other_kept_shapes_are_a_miss(data: bytes) -> None:
    assert decode_kept(data) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        _packed(None),
        _packed((("0", b"x"),)),
        _packed(((True, b"x"),)),
        _packed(((0, "text"),)),
        _packed(((0, b"x", 1),)),
    ],
)
def test_other_reads_shapes_are_a_miss(data: bytes) -> None:
    assert decode_reads(data) is None


def test_the_cache_keeps_both_kinds_apart_and_keys_reads_by_layer_and_request(
    tmp_path: Path,
) -> None:
    cache = KeptCache(ResultCache(tmp_path, 10_000_000))
    kept = _kept()
    assert cache.load_kept(LAYER) is None
    cache.save_kept(LAYER, kept)
    cache.save_reads(LAYER, "request-1", kept.reads)
    assert cache.load_kept(LAYER) == KeptLayer(bodies=kept.bodies, digests=kept.digests)
    assert cache.load_kept(OTHER) is None
    assert cache.load_reads(LAYER, "request-1") == kept.reads
    assert cache.load_reads(LAYER, "request-2") is None
    assert cache.load_reads(OTHER, "request-1") is None
    assert reads_key(LAYER, "request-1") not in (LAYER, reads_key(OTHER, "request-1"))
    # A damaged file is a miss (the result cache checks its own checksum).
    (path,) = (tmp_path / "v1" / KEPT).iterdir()
    path.write_bytes(path.read_bytes()[:-1] + b"?")
    assert cache.load_kept(LAYER) is None


def test_an_off_cache_stores_nothing(tmp_path: Path) -> None:
    cache = KeptCache(ResultCache(tmp_path, 0))
    cache.save_kept(LAYER, _kept())
    cache.save_reads(LAYER, "request-1", {0: b"x"})
    assert cache.load_kept(LAYER) is None and cache.load_reads(LAYER, "request-1") is None
    assert not (tmp_path / "v1").exists()


def test_the_scan_request_key_is_stable_and_names_its_selection() -> None:
    assert scan_request().key == scan_request().key != ""
    assert code_key((content_digest,), [1]) != code_key((content_digest,), [2])
    assert code_key((content_digest,), [1]) != code_key((code_key, scan_request), [1])
