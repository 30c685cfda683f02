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
from collections.abc import Callable, Iterable, Sequence

from trimdock.cache.store import ResultCache
from trimdock.image.model import EntryType, LayerEntry

KIND = "layer-entries-2"  # -2: length-prefixed chunks
_TYPES = {kind.value: kind for kind in EntryType}


Row = tuple[str, str, int, int, int, int, int, str, int, int]


def row(e: LayerEntry) -> Row:
    return (
        e.path,
        e.type.value,
        e.size,
        e.mode,
        e.uid,
        e.gid,
        e.mtime,
        e.link,
        e.devmajor,
        e.devminor,
    )


CHUNK = 4096


def encode(entries: Iterable[LayerEntry], tar_size: int | Callable[[], int]) -> bytes:
    """Encode headers as they come (`tar_size`: the size, or a function giving it once the
    entries are exhausted): only `CHUNK` of them are ever held as rows at once."""
    packer = zlib.compressobj(1)
    parts: list[bytes] = []
    chunk: list[Row] = []

    def pack(rows: list[Row]) -> None:
        frame = marshal.dumps(rows)
        parts.append(packer.compress(struct.pack(">I", len(frame)) + frame))

    for entry in entries:
        chunk.append(row(entry))
        if len(chunk) == CHUNK:
            pack(chunk)
            chunk = []
    pack(chunk)
    parts.append(packer.flush())
    size = tar_size if isinstance(tar_size, int) else tar_size()
    return struct.pack(">Q", size) + b"".join(parts)


def tar_size_of(data: bytes) -> int | None:
    """The tar size recorded in encoded headers, or None when `data` is too short."""
    return struct.unpack(">Q", data[:8])[0] if len(data) >= 8 else None


def decode(data: bytes) -> tuple[tuple[LayerEntry, ...], int] | None:
    """The headers and tar size of encoded headers, or None when they do not decode."""
    size = tar_size_of(data)
    try:
        frames = memoryview(zlib.decompress(data[8:]))
        entries_list: list[LayerEntry] = []
        at = 0
        while at < len(frames):
            (length,) = struct.unpack_from(">I", frames, at)
            end = at + 4 + length
            if end > len(frames):
                return None
            entries_list.extend(
                LayerEntry(path, _TYPES[kind], size, mode, uid, gid, mtime, link, major, minor)
                for path, kind, size, mode, uid, gid, mtime, link, major, minor in marshal.loads(
                    frames[at + 4 : end]
                )
            )
            at = end
        entries = tuple(entries_list)
    except (ValueError, TypeError, KeyError, EOFError, zlib.error, struct.error):
        return None
    return None if size is None else (entries, size)


class LayerCache:
    """Header lists by DiffID (`ResultCache` underneath; off when the cache is off)."""

    def __init__(self, cache: ResultCache | None = None) -> None:
        self._cache = cache if cache is not None else ResultCache.default()

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
