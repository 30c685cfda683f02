"""File bodies an image source kept from a pass it made anyway, so that analyses need not read
the layer again.

The engine's save path (`trimdock.image.daemon`) streams every layer once for its headers; a
second read would mean saving the whole image once more. While it streams, it keeps what the
reclaim analysis asks for: the package databases' small text files, and a content digest of
every file big enough to be a duplicate candidate (digests, not bodies: memory stays small).
"""

from __future__ import annotations

from typing import IO, Protocol, runtime_checkable

import xxhash

DATABASE_FILES = frozenset(
    {"var/lib/dpkg/status", "var/lib/apt/extended_states", "lib/apk/db/installed", "etc/apk/world"}
)
DPKG_LISTS = "var/lib/dpkg/info/"
DIGEST_MIN = 16 * 1024  # the smallest duplicate candidate (`reclaim.classify.DUPLICATE_MIN`)
MAX_KEPT_BODY = 64 << 20  # a bigger "database" is not a real one: not kept
MAX_KEPT_TOTAL = 256 << 20  # past this, later bodies are read again (rare: Debian's are MBs)
_CHUNK = 1 << 20


def database_file(path: str) -> bool:
    """Whether `path` (no leading "/") is a package database file the reclaim analysis reads."""
    if path.startswith(DPKG_LISTS):
        return path.endswith(".list") and "/" not in path[len(DPKG_LISTS) :]
    return path in DATABASE_FILES


def content_digest(reader: IO[bytes]) -> str:
    """XXH3-128 of a body, hex: duplicates are advice, nothing trusts the digest, and it runs
    at memory speed."""
    hasher = xxhash.xxh3_128()
    while chunk := reader.read(_CHUNK):
        hasher.update(chunk)
    return hasher.hexdigest()


@runtime_checkable
class KeptBodies(Protocol):
    """A layer content that kept some bodies and digests from its first read."""

    def kept_body(self, path: str) -> bytes | None: ...

    def kept_digest(self, path: str) -> str | None: ...
