"""File bodies an image source kept from a pass it made anyway, so that analyses need not read
the layer again.

The engine's save path (`trimdock.image.daemon`) streams every layer once for its headers; a
second read would mean saving the whole image once more (a registry, `trimdock.image.registry`:
downloading it again). While it streams, it keeps (`Keeper`) what the
reclaim analysis asks for: the package databases' small text files, and a content digest of
every file big enough to be a duplicate candidate (digests, not bodies: memory stays small).
A caller that will read other bodies says so up front with a `BodyRequest` (`scan`: os-release,
package metadata, Go build info, secret candidates, chosen by `trimdock.security.collect`);
the pass keeps what its `read` returns, within a byte budget, so the image is saved once.
"""

from __future__ import annotations

import hashlib
import io
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Generic, Protocol, TypeVar, cast, runtime_checkable

import xxhash

from trimdock.image.model import EntryType, LayerEntry

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
    reads the layers again when asked (`KeptReads`).

    `key` names what `pick` and `read` do (`code_key`), so that a source may cache a layer's
    reads under its DiffID and this key and serve them to a later run; empty: never cached."""

    pick: Callable[[LayerEntry], Tag | None]
    read: Callable[[Tag, LayerEntry, IO[bytes]], bytes | None]
    budget: int = MAX_KEPT_READS
    key: str = ""


def code_key(functions: tuple[Callable[..., Any], ...], settings: object) -> str:
    """A stable id of a selection: the source files of the modules defining `functions`
    (any change to the code that picks or reads changes it) and `settings`' repr (give it in a
    stable order: sorted, not sets)."""
    hasher = hashlib.sha256(repr(settings).encode())
    for module in sorted({function.__module__ for function in functions}):
        hasher.update(module.encode())
        where = getattr(sys.modules.get(module), "__file__", None)
        try:
            hasher.update(Path(where).read_bytes() if where else b"?")
        except OSError:
            hasher.update(b"?")
    return hasher.hexdigest()


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


@dataclass
class KeptLayer:
    """One layer's bodies and digests kept by a pass (first copy of a path), and the request's
    reads by entry position (every copy: the position tells them apart)."""

    bodies: dict[str, bytes] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    reads: dict[int, bytes | None] = field(default_factory=dict)


class Keeper:
    """What one pass over an image's layers keeps, within budgets shared by all its layers:
    the reclaim analysis' bodies and digests always, and the `request`'s reads when given."""

    def __init__(self, request: BodyRequest[Any] | None = None) -> None:
        self.request = request
        self.kept_total = 0
        self.reads_total = 0
        self.reads_dropped = 0  # requested reads past the budget (their layers open again)
        self._lock = threading.Lock()  # the budgets, should layers be read by several threads

    def keeping(
        self, items: Iterator[tuple[LayerEntry, IO[bytes] | None]], kept: KeptLayer
    ) -> Iterator[LayerEntry]:
        """The entries of an `open()`ed layer, keeping into `kept` as each body streams by."""
        for position, (entry, body) in enumerate(items):
            if body is not None:
                self.keep(entry, position, body, kept)
            yield entry

    def keep(self, entry: LayerEntry, position: int, body: IO[bytes], kept: KeptLayer) -> None:
        """Keep what the reclaim analysis and the request would otherwise read the layer again
        for. The body streams by once: a kept database body is handed to the request as bytes,
        and a digested body is hashed while the request reads its head."""
        path = entry.path
        request = self.request
        tag = None if request is None or entry.type is not EntryType.FILE else request.pick(entry)
        if database_file(path):
            if path not in kept.bodies and entry.size <= MAX_KEPT_BODY and self._reserve(entry):
                data = body.read()
                kept.bodies[path] = data
                body = io.BytesIO(data)
        elif entry.size >= DIGEST_MIN and path not in kept.digests:
            digesting = DigestingReader(body)
            if request is not None and tag is not None:
                self._read(request, tag, entry, position, cast(IO[bytes], digesting), kept)
            kept.digests[path] = digesting.finish()
            return
        if request is not None and tag is not None:
            self._read(request, tag, entry, position, body, kept)

    def _reserve(self, entry: LayerEntry) -> bool:
        with self._lock:
            if self.kept_total + entry.size > MAX_KEPT_TOTAL:
                return False
            self.kept_total += entry.size
            return True

    def _read(
        self,
        request: BodyRequest[Any],
        tag: object,
        entry: LayerEntry,
        position: int,
        body: IO[bytes],
        kept: KeptLayer,
    ) -> None:
        data = request.read(tag, entry, body)
        size = len(data) if data else 0
        with self._lock:
            if self.reads_total + size > request.budget:
                self.reads_dropped += 1  # not kept: `kept_reads` lacks it, the caller opens it
                return
            self.reads_total += size
        kept.reads[position] = data
