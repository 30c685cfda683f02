"""File bodies an image source kept from a pass it made anyway, so that analyses need not read
the layer again.

The engine's save path (`trimdock.image.daemon`) streams every layer once for its headers; a
second read would mean saving the whole image once more. While it streams, it keeps what the
reclaim analysis asks for: the package databases' small text files, and a content digest of
every file big enough to be a duplicate candidate (digests, not bodies: memory stays small).
A caller that will read other bodies says so up front with a `BodyRequest` (`scan`: os-release,
package metadata, Go build info, secret candidates, chosen by `trimdock.security.collect`);
the pass keeps what its `read` returns, within a byte budget, so the image is saved once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Generic, Protocol, TypeVar, runtime_checkable

import xxhash

from trimdock.image.model import LayerEntry

DATABASE_FILES = frozenset(
    {"var/lib/dpkg/status", "var/lib/apt/extended_states", "lib/apk/db/installed", "etc/apk/world"}
)
DPKG_LISTS = "var/lib/dpkg/info/"
DIGEST_MIN = 16 * 1024  # the smallest duplicate candidate (`reclaim.classify.DUPLICATE_MIN`)
MAX_KEPT_BODY = 64 << 20  # a bigger "database" is not a real one: not kept
MAX_KEPT_TOTAL = 256 << 20  # past this, later bodies are read again (rare: Debian's are MBs)
# What a `BodyRequest` may keep in all. The caller holds these bytes afterwards anyway (the
# kept objects are handed over, not copied), so this bounds a pathological image (hundreds of
# MB of jars), not the usual one: a Debian image with Python packages keeps a few MB.
MAX_KEPT_READS = 512 << 20
_CHUNK = 1 << 20

Tag = TypeVar("Tag")


def database_file(path: str) -> bool:
    """Whether `path` (no leading "/") is a package database file the reclaim analysis reads."""
    if path.startswith(DPKG_LISTS):
        return path.endswith(".list") and "/" not in path[len(DPKG_LISTS) :]
    return path in DATABASE_FILES


def content_digest(reader: IO[bytes]) -> str:
    """XXH3-128 of a body, hex: duplicates are advice, nothing trusts the digest, and it runs
    at memory speed."""
    return DigestingReader(reader).finish()


class DigestingReader:
    """A body reader that hashes what passes through it (`content_digest`'s hash), so that a
    streamed body can serve a requested read and its digest: one pass, no copy."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._hasher = xxhash.xxh3_128()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._hasher.update(data)
        return data

    def readable(self) -> bool:
        return True

    def finish(self) -> str:
        """Hash the rest of the body; the digest of the whole body, hex."""
        while chunk := self._raw.read(_CHUNK):
            self._hasher.update(chunk)
        return self._hasher.hexdigest()


@dataclass(frozen=True)
class BodyRequest(Generic[Tag]):
    """File bodies a caller will read, said before a source's only pass over the layers.

    `pick` tags a regular file from its header alone (None: not wanted); `read` gets a tagged
    file's body and returns what to keep of it (None: nothing to keep, say not the format it
    looks for). Results are kept while their total stays within `budget`; past it a source
    reads the layers again when asked (`KeptReads`)."""

    pick: Callable[[LayerEntry], Tag | None]
    read: Callable[[Tag, LayerEntry, IO[bytes]], bytes | None]
    budget: int = MAX_KEPT_READS


@runtime_checkable
class KeptBodies(Protocol):
    """A layer content that kept some bodies and digests from its first read."""

    def kept_body(self, path: str) -> bytes | None: ...

    def kept_digest(self, path: str) -> str | None: ...


@runtime_checkable
class KeptReads(Protocol):
    """A layer content that kept the results of a `BodyRequest`'s reads from its first pass."""

    def kept_reads(self) -> Mapping[int, bytes | None]:
        """`read`'s result by the file's position in `entries()`, for every picked file kept
        within the budget (a picked position missing here must be read from `open()`)."""
        ...
