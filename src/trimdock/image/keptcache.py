"""What a layer's pass kept (`trimdock.image.kept`), in the result cache beside its headers.

A layer's kept bodies and digests (package database files, content digests of duplicate
candidates) depend on the layer only: they are stored under its DiffID (`KEPT`). A request's
reads depend on the layer and on what the request picks and reads: they are stored under the
sha256 of the DiffID and the request's `key` (`READS`), so any later run with the same
selection (the same code) uses them, and a changed selection simply misses.

Compact format: zlib (level 1: the bodies are text, the digests 16 raw bytes) of one marshal'ed
tuple, `(bodies, digests)` as `((path, body), ...), ((path, digest16), ...)` or the reads as
`((position, data or None), ...)`. marshal is only ever fed bytes trimdock wrote itself (the
cache checks each file's sha256 before returning it); any other shape is a miss.
"""

from __future__ import annotations

import hashlib
import marshal
import zlib

from trimdock.cache.store import ResultCache
from trimdock.image.kept import KeptLayer

KEPT = "layer-kept-1"
READS = "layer-reads-1"
_DIGEST_BYTES = 16  # XXH3-128 (`trimdock.image.kept.content_digest`)


def encode_kept(kept: KeptLayer) -> bytes:
    digests = tuple((path, bytes.fromhex(digest)) for path, digest in kept.digests.items())
    return zlib.compress(marshal.dumps((tuple(kept.bodies.items()), digests)), 1)


def decode_kept(data: bytes) -> KeptLayer | None:
    """The bodies and digests of `encode_kept`'s bytes (no reads), or None for another shape."""
    try:
        bodies, digests = marshal.loads(zlib.decompress(data))
        kept = KeptLayer()
        for path, body in bodies:
            if not isinstance(path, str) or not isinstance(body, bytes):
                return None
            kept.bodies[path] = body
        for path, digest in digests:
            if not isinstance(path, str) or not isinstance(digest, bytes):
                return None
            if len(digest) != _DIGEST_BYTES:
                return None
            kept.digests[path] = digest.hex()
    except (ValueError, TypeError, EOFError, zlib.error):
        return None
    return kept


def encode_reads(reads: dict[int, bytes | None]) -> bytes:
    return zlib.compress(marshal.dumps(tuple(reads.items())), 1)


def decode_reads(data: bytes) -> dict[int, bytes | None] | None:
    """The reads of `encode_reads`' bytes, or None for another shape."""
    try:
        rows = marshal.loads(zlib.decompress(data))
        reads: dict[int, bytes | None] = {}
        for position, value in rows:
            if type(position) is not int or not (value is None or isinstance(value, bytes)):
                return None
            reads[position] = value
    except (ValueError, TypeError, EOFError, zlib.error):
        return None
    return reads


def reads_key(diff_id: str, request_key: str) -> str:
    """The cache key of a layer's reads for a request: both must match for a hit."""
    return "sha256:" + hashlib.sha256(f"{diff_id}\n{request_key}".encode()).hexdigest()


class KeptCache:
    """Kept bodies and digests by DiffID, reads by DiffID and request key (`ResultCache`
    underneath; off when the cache is off)."""

    def __init__(self, cache: ResultCache | None = None) -> None:
        self._cache = cache if cache is not None else ResultCache.default()

    @property
    def enabled(self) -> bool:
        return self._cache.enabled

    def load_kept(self, diff_id: str) -> KeptLayer | None:
        data = self._cache.get(KEPT, diff_id)
        return None if data is None else decode_kept(data)

    def save_kept(self, diff_id: str, kept: KeptLayer) -> None:
        if self._cache.enabled:
            self._cache.put(KEPT, diff_id, encode_kept(kept))

    def load_reads(self, diff_id: str, request_key: str) -> dict[int, bytes | None] | None:
        data = self._cache.get(READS, reads_key(diff_id, request_key))
        return None if data is None else decode_reads(data)

    def save_reads(self, diff_id: str, request_key: str, reads: dict[int, bytes | None]) -> None:
        if self._cache.enabled:
            self._cache.put(READS, reads_key(diff_id, request_key), encode_reads(reads))
