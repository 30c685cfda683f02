"""`LayerContent` over a tar blob: header-only iteration by seeking, or streaming with digests.

Two ways to read a layer:

* **seek** (uncompressed blob with random access): headers are read with positional reads and
  file data is skipped by moving the offset, so the cost is about one small read per entry (or
  less: neighbouring small entries share a read) whatever the layer's byte size. The DiffID is
  checked by `trimdock.image.digests.DigestPool` hashing the blob while the headers are parsed
  (a worker process when the blob is a byte range of a file, else a thread); the iterator
  raises on a mismatch once it reaches the end of the layer.
* **stream** (compressed blobs, pipes): bytes flow through sha256 hashers (stored digest, then
  DiffID after decompression) while the tar is parsed; at the end of the stream the digests are
  compared. A mismatch raises `ImageSourceError` naming the layer. Memory stays constant.

A layer whose digests were verified once is not hashed again.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import IO, TypeVar, cast

import zstandard
from isal.igzip_lib import IsalError

from trimdock.errors import ImageSourceError
from trimdock.image.digests import BlobOpener, DigestPool, Extent, PendingDigest
from trimdock.image.layercache import DecodeError, HeaderEncoder, LayerCache, iter_decode
from trimdock.image.model import EntryType, LayerEntry
from trimdock.image.streams import (
    Compression,
    HashingReader,
    decompressed,
    read_prefix,
    sniff,
)
from trimdock.image.tarparse import FileReader, TarFormatError, Window, parse

_Tag = TypeVar("_Tag")

# Errors a corrupt or truncated blob can raise from the tar parser or a decompressor.
_CORRUPT: tuple[type[BaseException], ...] = (
    TarFormatError,
    EOFError,
    OSError,
    zlib.error,
    cast(type[BaseException], IsalError),
    zstandard.ZstdError,
    ValueError,
)


class TarLayer:
    """One layer's tar blob; satisfies `trimdock.image.model.LayerContent`."""

    def __init__(
        self,
        *,
        source: str,
        label: str,
        opener: BlobOpener,
        diff_id: str,
        blob_digest: str | None = None,
        seekable: bool = False,
        verify: bool = True,
        digests: DigestPool | None = None,
        extent: Extent | None = None,
    ) -> None:
        self.source = source
        self.label = label
        self._opener = opener
        self.diff_id = diff_id
        self.blob_digest = blob_digest
        self._seekable = seekable
        self._verify = verify
        self._verified = not verify
        self._digests = digests
        self._extent = extent
        self._pending: PendingDigest | None = None
        # Deferred: a read does not wait for the background digest at the layer's end; the
        # caller must call `finish_digest_check` before it reports anything.
        self._deferred = False
        self._unsaved: HeaderEncoder | None = None
        self.compression: Compression | None = None
        self.uncompressed_size: int | None = None
        # Set after a full streamed read; with an empty `diff_id` nothing is compared (the
        # engine source learns a layer's DiffID this way).
        self.computed_diff_id: str | None = None

    # -- LayerContent -------------------------------------------------------------------------

    def entries(self) -> Iterator[LayerEntry]:
        cached = self._cached_headers()
        if cached is not None:
            yield from self._checked(cached)
            return
        # A seekable layer whose DiffID this read proves goes to the per-layer cache: the next
        # analysis of any image with this layer decodes its headers instead of parsing them.
        saver = HeaderEncoder() if self._cacheable() and LayerCache().enabled else None
        with self._members() as members:
            for entry, _offset, _window in members:
                if saver is not None:
                    saver.add(entry)
                yield entry
        if saver is not None:
            self._unsaved = saver
            self._save_when_verified()

    def _save_when_verified(self) -> None:
        if self._unsaved is not None and self._verified and self.uncompressed_size is not None:
            LayerCache().save_encoded(self.diff_id, self._unsaved.finish(self.uncompressed_size))
            self._unsaved = None

    def defer_digest_check(self) -> None:
        """Let reads end without waiting for the background digest (the worker hashes while
        the caller goes on with other layers); `finish_digest_check` must follow."""
        self._deferred = True

    def finish_digest_check(self) -> None:
        """Wait for and compare a deferred background digest (raises on a mismatch)."""
        if self._pending is not None:
            self._check_background_digest(self._pending)
        self._save_when_verified()

    def _cacheable(self) -> bool:
        """Whether headers may be served from / kept in the cache: the layer is checked
        against a known DiffID (not `--no-verify`) and can be hashed without parsing it."""
        return self._verify and bool(self.diff_id) and self._seekable

    def _cached_headers(self) -> bytes | None:
        """The cached headers of this layer when they can be used: its DiffID will be proven
        by hashing alone (an uncompressed blob on the digest worker, or already proven)."""
        if not self._cacheable():
            return None
        encoded = LayerCache().load_encoded(self.diff_id)
        if encoded is None or self._verified:
            return encoded
        if self._digests is None:
            return None
        try:
            with self._opener() as raw:
                compression = sniff(read_prefix(raw))
        except _CORRUPT as exc:
            raise self._corrupt(exc) from exc
        if compression is not Compression.NONE:
            return None  # hashing a compressed blob means decompressing it: parse it instead
        self.compression = compression
        self.prefetch_digest()
        return encoded

    def _checked(self, encoded: bytes) -> Iterator[LayerEntry]:
        """Cached headers, then the digest check the parsed path would make at its end: the
        analysis never outlives a blob that is not the layer the headers belong to."""
        try:
            yield from iter_decode(encoded)
        except DecodeError:
            raise self._error("its cached headers do not decode (trimdock cache clear)") from None
        self._after_read()

    @contextmanager
    def open(self) -> Iterator[Iterator[tuple[LayerEntry, IO[bytes] | None]]]:
        with self._members() as members:
            yield self._with_readers(members)

    def entries_reading(
        self,
        pick: Callable[[LayerEntry], _Tag | None],
        take: Callable[[LayerEntry, _Tag, IO[bytes]], None],
    ) -> Iterator[LayerEntry]:
        """`entries()`, handing `take` the bytes of each regular file `pick` tags, in the same
        pass: the headers are read once, and a reader is made only for the picked files (it
        is valid during the call to `take`)."""
        with self._members() as members:
            for entry, offset, window in members:
                if entry.type is EntryType.FILE:
                    tag = pick(entry)
                    if tag is not None:
                        reader = _GuardedReader(FileReader(window, offset, entry.size), self)
                        take(entry, tag, cast(IO[bytes], reader))
                yield entry

    def use_digest_pool(self, digests: DigestPool) -> None:
        """Verify this layer on `digests`' worker when it can be read with seeks."""
        self._digests = digests

    def prefetch_digest(self) -> None:
        """Start hashing this layer's blob in the background (seekable uncompressed blobs)."""
        if not self._verified and self._seekable and self._digests and self._pending is None:
            self._pending = self._digests.submit(self._opener, self._extent)

    # -- internals ----------------------------------------------------------------------------

    def _error(self, problem: str) -> ImageSourceError:
        return ImageSourceError(f"{self.label}: {problem}", source=self.source)

    def _corrupt(self, exc: BaseException) -> ImageSourceError:
        return self._error(f"corrupt or truncated layer ({exc})")

    def _with_readers(
        self, members: Iterator[tuple[LayerEntry, int, Window]]
    ) -> Iterator[tuple[LayerEntry, IO[bytes] | None]]:
        for entry, offset, window in members:
            if entry.type is EntryType.FILE:
                reader = _GuardedReader(FileReader(window, offset, entry.size), self)
                yield entry, cast(IO[bytes], reader)
            else:
                yield entry, None

    @contextmanager
    def _members(self) -> Iterator[Iterator[tuple[LayerEntry, int, Window]]]:
        with ExitStack() as stack:
            try:
                members = self._start(stack)
            except ImageSourceError:
                raise
            except _CORRUPT as exc:
                raise self._corrupt(exc) from exc
            yield members

    def _start(self, stack: ExitStack) -> Iterator[tuple[LayerEntry, int, Window]]:
        raw = stack.enter_context(self._opener())
        if self._seekable:
            prefix = read_prefix(raw)
            raw.seek(0)
            if sniff(prefix) is Compression.NONE and (self._verified or self._digests):
                self.compression = Compression.NONE
                self.prefetch_digest()

                def read_at(offset: int, size: int) -> bytes:
                    raw.seek(offset)
                    return raw.read(size)

                return self._iterate(Window(read_at=read_at), None, None)
        blob_hash = HashingReader(raw)
        data, kind = decompressed(cast(IO[bytes], blob_hash))
        self.compression = kind
        # Uncompressed: the blob digest is the DiffID, one hasher under the buffered reader.
        tar_hash = blob_hash if kind is Compression.NONE else HashingReader(data)
        tar_input = data if kind is Compression.NONE else cast(IO[bytes], tar_hash)
        return self._iterate(Window(stream=tar_input), blob_hash, tar_hash)

    def _iterate(
        self,
        window: Window,
        blob_hash: HashingReader | None,
        tar_hash: HashingReader | None,
    ) -> Iterator[tuple[LayerEntry, int, Window]]:
        entries = parse(window)
        while True:
            try:
                item = next(entries, None)
            except _CORRUPT as exc:
                raise self._corrupt(exc) from exc
            if item is None:
                break
            yield item[0], item[1], window
        if tar_hash is not None and blob_hash is not None:
            self._check_stream_digests(blob_hash, tar_hash)
        else:
            self._after_read()

    def _after_read(self) -> None:
        """The end of a read hashed on the digest worker: check its digest now, unless the
        caller deferred the check (`defer_digest_check`)."""
        if self._pending is not None and not self._deferred:
            self._check_background_digest(self._pending)

    def _check_background_digest(self, pending: PendingDigest) -> None:
        try:
            actual, size = pending.result()
        except _CORRUPT as exc:
            raise self._corrupt(exc) from exc
        self._pending = None
        self.uncompressed_size = size
        self._compare(actual, actual)

    def _check_stream_digests(self, blob_hash: HashingReader, tar_hash: HashingReader) -> None:
        try:
            tar_hash.drain()
            if blob_hash is not tar_hash:
                blob_hash.drain()
        except _CORRUPT as exc:
            raise self._corrupt(exc) from exc
        self.uncompressed_size = tar_hash.count
        self._compare(tar_hash.hexdigest(), blob_hash.hexdigest())

    def _compare(self, diff_id: str, blob_digest: str) -> None:
        self.computed_diff_id = diff_id
        if self._verified:
            return
        if self.diff_id and diff_id != self.diff_id:
            raise self._error(f"DiffID mismatch: expected {self.diff_id}, content is {diff_id}")
        if self.blob_digest is not None and blob_digest != self.blob_digest:
            raise self._error(
                f"blob digest mismatch: expected {self.blob_digest}, blob is {blob_digest}"
            )
        self._verified = True


class _GuardedReader:
    """A file reader that turns decompression/truncation errors into `ImageSourceError`."""

    def __init__(self, raw: FileReader, layer: TarLayer) -> None:
        self._raw = raw
        self._layer = layer

    def read(self, size: int = -1) -> bytes:
        try:
            return self._raw.read(size)
        except _CORRUPT as exc:
            raise self._layer._corrupt(exc) from exc

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        pass
