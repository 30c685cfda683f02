"""Encoded layer headers (`trimdock.image.layercache`): what `iter_decode` gives back, and
that every damaged form is a `DecodeError` (the cache then reads the layer afresh), never
another exception or wrong entries."""

from __future__ import annotations

import marshal
import struct
import zlib

import pytest

from trimdock.image.layercache import (
    CHUNK,
    DecodeError,
    decode,
    encode,
    iter_decode,
    tar_size_of,
)
from trimdock.image.model import EntryType, LayerEntry


def _entries(count: int) -> list[LayerEntry]:
    kinds = [EntryType.FILE, EntryType.DIR, EntryType.SYMLINK]
    return [
        LayerEntry(
            path=f"usr/share/doc/package-{n}/{'x' * (n % 50)}",
            type=kinds[n % 3],
            size=n * 7,
            mode=0o644,
            uid=n % 3,
            gid=0,
            mtime=1_700_000_000 + n,
            link="target" if kinds[n % 3] is EntryType.SYMLINK else "",
        )
        for n in range(count)
    ]


# Several frames (CHUNK entries each) and, for the big one, more decompressed bytes than the
# decoder takes from zlib at a time.
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 3]


@pytest.mark.parametrize("count", SIZES)
def test_encoded_headers_decode_to_the_same_entries(count: int) -> None:
    entries = _entries(count)
    data = encode(entries, 12345)
    assert tar_size_of(data) == 12345
    assert list(iter_decode(data)) == entries
    assert decode(data) == (tuple(entries), 12345)


ENCODED = encode(_entries(3 * CHUNK), 99)


def _decoded_until_error(data: bytes) -> list[LayerEntry]:
    seen: list[LayerEntry] = []
    with pytest.raises(DecodeError):
        for entry in iter_decode(data):
            seen.append(entry)
    return seen


@pytest.mark.parametrize("cut", [0, 7, 8, 9, 20, len(ENCODED) // 2, len(ENCODED) - 5])
def test_a_cut_short_stream_fails_after_the_entries_before_the_cut(cut: int) -> None:
    seen = _decoded_until_error(ENCODED[:cut])
    assert seen == _entries(3 * CHUNK)[: len(seen)]  # a prefix, never a wrong entry
    assert decode(ENCODED[:cut]) is None


def test_the_last_byte_missing_fails() -> None:
    seen = _decoded_until_error(ENCODED[:-1])
    assert len(seen) < 3 * CHUNK or seen == _entries(3 * CHUNK)


@pytest.mark.parametrize("tail", [b"\0", b"garbage", ENCODED[8:]])
def test_data_after_the_stream_fails_after_every_entry(tail: bytes) -> None:
    assert _decoded_until_error(ENCODED + tail) == _entries(3 * CHUNK)


@pytest.mark.parametrize("at", [8, 12, 100, len(ENCODED) // 3, len(ENCODED) - 2])
def test_a_damaged_byte_fails(at: int) -> None:
    damaged = bytearray(ENCODED)
    damaged[at] ^= 0x5A
    _decoded_until_error(bytes(damaged))


def _frame(rows: object) -> bytes:
    body = marshal.dumps(rows)
    return struct.pack(">I", len(body)) + body


def _framed(*frames: bytes) -> bytes:
    return struct.pack(">Q", 0) + zlib.compress(b"".join(frames))


@pytest.mark.parametrize(
    "data",
    [
        _framed(struct.pack(">I", 100) + b"short"),  # the frame runs past the end
        _framed(b"\0\0"),  # not even a length
        _framed(struct.pack(">I", 3) + b"abc"),  # not marshal data
        _framed(struct.pack(">I", 5) + b"i\x01\0\0\0"),  # marshal, but not a list of rows
        _framed(_frame([("p", "?", 0)])),  # rows of the wrong shape
        _framed(_frame([("p", "?", 0, 0, 0, 0, 0, "", 0, 0)])),  # an unknown entry type
    ],
    ids=["past-end", "no-length", "not-marshal", "not-a-list", "bad-row", "bad-type"],
)
def test_bad_frames_fail(data: bytes) -> None:
    assert _decoded_until_error(data) == []


def test_entries_come_before_the_stream_ends() -> None:
    # Lazy: the first entries are given before the decoder reaches the damaged end.
    entries = iter_decode(ENCODED + b"trailing")
    assert next(entries) == _entries(1)[0]
