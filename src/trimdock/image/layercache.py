"""A layer's header list and tar size, kept in the result cache under its DiffID.

A DiffID is the sha256 of the layer's tar, so the headers read once from any source that
proved the DiffID (the engine's layer store, a registry blob whose digest was checked) hold for
every image that shares the layer: ten application images on one base read the base once.

Compact format: the tar size (8 bytes, big-endian), then zlib of length-prefixed (4 bytes,
big-endian) marshal'ed chunks of rows
`[(path, type, size, mode, uid, gid, mtime, link, devmajor, devminor), ...]`: about 3 bytes an
entry, so sources can also keep a layer's headers in memory in this form and decode them when an
analysis reads them. The length prefix is there for speed: `marshal.loads` on a slice is 20
times faster than `marshal.load` on a stream, which reads an object a few bytes at a time.
marshal is only ever fed bytes trimdock wrote itself (the cache checks each file's sha256
before returning it); any other shape is refused.
"""

from __future__ import annotations

import marshal
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence

from trimdock.cache.store import ResultCache
from trimdock.image.model import EntryRow as Row
from trimdock.image.model import EntryType, LayerEntry

KIND = "layer-entries-2"  # -2: length-prefixed chunks
_TYPES = {kind.value: kind for kind in EntryType}
# Builds a `LayerEntry` from a complete tuple without the keyword handling of its constructor.
_entry = tuple.__new__


_VALUES = {kind: kind.value for kind in EntryType}


def row(e: LayerEntry) -> Row:
    """The entry as a cache row: its fields, with the type's value (marshal stores plain
    strings only). The tuple unpacked, not ten attribute reads: this runs once an entry."""
    return (e[0], _VALUES[e[1]], *e[2:])


CHUNK = 4096
# Compressed bytes fed to the decompressor at a time, and the most it returns per call.
_PIECE = 1 << 18


def _frame(rows: list[Row]) -> bytes:
    """One frame: the marshal'ed rows after their length (4 bytes, big-endian)."""
    data = marshal.dumps(rows)
    return struct.pack(">I", len(data)) + data


class HeaderEncoder:
    """Encodes headers as they are added: only `CHUNK` of them are ever held as rows at once
    (for sources that learn a layer's headers while they read it for something else)."""

    def __init__(self) -> None:
        self._packer = zlib.compressobj(1)
        self._parts: list[bytes] = []
        self._chunk: list[Row] = []

    def add(self, entry: LayerEntry) -> None:
        self.add_row(row(entry))

    def add_row(self, entry: Row) -> None:
        self._chunk.append(entry)
        if len(self._chunk) == CHUNK:
            self._pack()

    def add_frames(self, frames: bytes) -> None:
        """Rows packed elsewhere (`pack_frames`), after the ones added so far."""
        if self._chunk:
            self._pack()
        self._parts.append(self._packer.compress(frames))

    def _pack(self) -> None:
        self._parts.append(self._packer.compress(_frame(self._chunk)))
        self._chunk = []

    def finish(self, tar_size: int) -> bytes:
        self._pack()
        self._parts.append(self._packer.flush())
        return struct.pack(">Q", tar_size) + b"".join(self._parts)


def pack_frames(rows: Iterable[Row]) -> bytes:
    """Rows as uncompressed frames of `CHUNK`: the part of a layer read elsewhere, for the
    `HeaderEncoder` of the whole layer (`add_frames`)."""
    frames: list[bytes] = []
    chunk: list[Row] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) == CHUNK:
            frames.append(_frame(chunk))
            chunk = []
    if chunk:
        frames.append(_frame(chunk))
    return b"".join(frames)


def encode(entries: Iterable[LayerEntry], tar_size: int | Callable[[], int]) -> bytes:
    """Encode headers as they come (`tar_size`: the size, or a function giving it once the
    entries are exhausted)."""
    return encode_rows(map(row, entries), tar_size)


def encode_rows(rows: Iterable[Row], tar_size: int | Callable[[], int]) -> bytes:
    """`encode` for rows."""
    encoder = HeaderEncoder()
    for item in rows:
        encoder.add_row(item)
    return encoder.finish(tar_size if isinstance(tar_size, int) else tar_size())


def tar_size_of(data: bytes) -> int | None:
    """The tar size recorded in encoded headers, or None when `data` is too short."""
    return struct.unpack(">Q", data[:8])[0] if len(data) >= 8 else None


def entries_of(rows: Iterable[Row]) -> list[LayerEntry]:
    """The entries of cache rows (`row`'s inverse); KeyError for an unknown type, ValueError or
    TypeError for a row of another shape."""
    return [
        _entry(LayerEntry, (path, _TYPES[kind], size, mode, uid, gid, mtime, link, a, b))
        for path, kind, size, mode, uid, gid, mtime, link, a, b in rows
    ]


class DecodeError(ValueError):
    """Encoded headers that do not decode (a damaged or foreign cache file)."""


def iter_decode(data: bytes) -> Iterator[LayerEntry]:
    """The headers of encoded headers, one chunk of `CHUNK` built at a time: a big layer's
    entries never all exist as objects at once. Raises `DecodeError` where they stop
    decoding (entries before that point have been yielded)."""
    if tar_size_of(data) is None:
        raise DecodeError("too short")
    for frame in _frames(_pieces(memoryview(data)[8:])):
        try:
            chunk = entries_of(marshal.loads(frame))
        except (ValueError, TypeError, KeyError, EOFError) as exc:
            raise DecodeError(str(exc) or type(exc).__name__) from None
        yield from chunk


def _pieces(compressed: memoryview) -> Iterator[bytes]:
    """The decompressed stream, at most `_PIECE` bytes at a time: the whole decompressed form
    is three times the compressed one and would double the memory a big layer costs while it
    is read. `DecodeError` for a stream that does not inflate, is cut short or is followed
    by anything."""
    unpacker = zlib.decompressobj()
    at = 0
    while not unpacker.eof:
        try:
            if unpacker.unconsumed_tail:
                more = unpacker.decompress(unpacker.unconsumed_tail, _PIECE)
            elif at < len(compressed):
                more = unpacker.decompress(compressed[at : at + _PIECE], _PIECE)
                at += _PIECE
            else:
                more = unpacker.flush()
                if not more and not unpacker.eof:
                    raise DecodeError("a chunk runs past the end")
        except zlib.error as exc:
            raise DecodeError(str(exc)) from None
        if more:
            yield more
    if unpacker.unused_data or unpacker.unconsumed_tail or at < len(compressed):
        raise DecodeError("a chunk runs past the end, or data follows it")


def _frames(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """The frames (4-byte big-endian length, then that many bytes) of the decompressed
    stream, each as soon as its last piece came: at most one frame and one piece are held.
    `DecodeError` when the stream ends inside a frame."""
    pending = b""
    for piece in pieces:
        pending += piece
        while len(pending) >= 4:
            end = 4 + int.from_bytes(pending[:4], "big")
            if len(pending) < end:
                break
            frame, pending = pending[4:end], pending[end:]
            yield frame
    if pending:
        raise DecodeError("a chunk runs past the end, or data follows it")


def decode(data: bytes) -> tuple[tuple[LayerEntry, ...], int] | None:
    """The headers and tar size of encoded headers, or None when they do not decode."""
    size = tar_size_of(data)
    try:
        entries = tuple(iter_decode(data))
    except DecodeError:
        return None
    return None if size is None else (entries, size)


class LayerCache:
    """Header lists by DiffID (`ResultCache` underneath; off when the cache is off)."""

    def __init__(self, cache: ResultCache | None = None) -> None:
        self._cache = cache if cache is not None else ResultCache.default()

    @property
    def enabled(self) -> bool:
        return self._cache.enabled

    def load(self, diff_id: str) -> tuple[tuple[LayerEntry, ...], int] | None:
        data = self.load_encoded(diff_id)
        return None if data is None else decode(data)

    def load_encoded(self, diff_id: str) -> bytes | None:
        """The encoded headers (`decode` reads them), or None."""
        data = self._cache.get(KIND, diff_id)
        return data if data is not None and tar_size_of(data) is not None else None

    def save(self, diff_id: str, entries: Sequence[LayerEntry], tar_size: int) -> None:
        if self._cache.enabled:
            self.save_encoded(diff_id, encode(entries, tar_size))

    def save_encoded(self, diff_id: str, data: bytes) -> None:
        self._cache.put(KIND, diff_id, data)
