"""A layer's header list and tar size, kept in the result cache under its DiffID.

A DiffID is the sha256 of the layer's tar, so the headers read once from any source that
proved the DiffID (the engine's layer store, a registry blob whose digest was checked) hold for
every image that shares the layer: ten application images on one base read the base once.

Compact format: zlib(marshal((tar size, [(path, type, size, mode, uid, gid, mtime, link,
devmajor, devminor), ...]))). marshal is only ever fed files trimdock wrote itself (the cache
checks each file's sha256 before returning it); any other shape is a miss.
"""

from __future__ import annotations

import marshal
import zlib
from collections.abc import Sequence

from trimdock.cache.store import ResultCache
from trimdock.image.model import EntryType, LayerEntry

KIND = "layer-entries"
_TYPES = {kind.value: kind for kind in EntryType}


def encode(entries: Sequence[LayerEntry], tar_size: int) -> bytes:
    rows = [
        (
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
        for e in entries
    ]
    return zlib.compress(marshal.dumps((tar_size, rows)), 1)


def decode(data: bytes) -> tuple[tuple[LayerEntry, ...], int] | None:
    try:
        tar_size, rows = marshal.loads(zlib.decompress(data))
        entries = tuple(
            LayerEntry(path, _TYPES[kind], size, mode, uid, gid, mtime, link, major, minor)
            for path, kind, size, mode, uid, gid, mtime, link, major, minor in rows
        )
    except (ValueError, TypeError, KeyError, EOFError, zlib.error):
        return None
    if not isinstance(tar_size, int):
        return None
    return entries, tar_size


class LayerCache:
    """Header lists by DiffID (`ResultCache` underneath; off when the cache is off)."""

    def __init__(self, cache: ResultCache | None = None) -> None:
        self._cache = cache if cache is not None else ResultCache.default()

    def load(self, diff_id: str) -> tuple[tuple[LayerEntry, ...], int] | None:
        data = self._cache.get(KIND, diff_id)
        return None if data is None else decode(data)

    def save(self, diff_id: str, entries: Sequence[LayerEntry], tar_size: int) -> None:
        if self._cache.enabled:
            self._cache.put(KIND, diff_id, encode(entries, tar_size))
