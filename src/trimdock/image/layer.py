"""`LayerContent` over a tar blob: header-only iteration by seeking, or streaming with digests.

Two ways to read a layer:

* **seek** (uncompressed blob with random access, digest already verified or not wanted):
  headers are read with positional reads and file data is skipped by seeking, so the cost is
  one small read per entry whatever the layer's byte size.
* **stream** (compressed blobs, pipes, or the first read when verification is on): bytes flow
  through sha256 hashers (stored digest, then DiffID after decompression) while the tar is
  parsed; at the end of the stream the digests are compared and a mismatch raises
  `ImageSourceError` naming the layer. Memory stays constant: nothing is buffered.

A layer verified once is read with seeks afterwards (when its blob allows it).
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import IO, Any, cast

import zstandard
from isal.igzip_lib import IsalError

from trimdock.errors import ImageSourceError
from trimdock.image.model import EntryType, LayerEntry
from trimdock.image.streams import (
    CHUNK,
    Compression,
    HashingReader,
    decompressed,
    read_prefix,
    sniff,
)
from trimdock.image.tarentry import entry_from_tarinfo

BlobOpener = Callable[[], AbstractContextManager[IO[bytes]]]

# Errors a corrupt or truncated blob can raise from the tar parser or a decompressor.
_CORRUPT: tuple[type[BaseException], ...] = (
    tarfile.TarError,
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
    ) -> None:
        self.source = source
        self.label = label
        self._opener = opener
        self.diff_id = diff_id
        self.blob_digest = blob_digest
        self._seekable = seekable
        self._verified = not verify
        self.compression: Compression | None = None
        self.uncompressed_size: int | None = None
        # Set after a full streamed read; with an empty `diff_id` nothing is compared (the
        # engine source learns a layer's DiffID this way).
        self.computed_diff_id: str | None = None

    # -- LayerContent -------------------------------------------------------------------------

    def entries(self) -> Iterator[LayerEntry]:
        with self._members() as members:
            for entry, _info, _tar in members:
                yield entry

    @contextmanager
    def open(self) -> Iterator[Iterator[tuple[LayerEntry, IO[bytes] | None]]]:
        with self._members() as members:
            yield self._with_readers(members)

    # -- internals ----------------------------------------------------------------------------

    def _error(self, problem: str) -> ImageSourceError:
        return ImageSourceError(f"{self.label}: {problem}", source=self.source)

    def _with_readers(
        self, members: Iterator[tuple[LayerEntry, tarfile.TarInfo, tarfile.TarFile]]
    ) -> Iterator[tuple[LayerEntry, IO[bytes] | None]]:
        for entry, info, tar in members:
            if entry.type is EntryType.FILE:
                try:
                    raw = tar.extractfile(info)
                except _CORRUPT as exc:
                    raise self._error(f"corrupt or truncated layer ({exc})") from exc
                yield entry, (cast(IO[bytes], _GuardedReader(raw, self)) if raw else None)
            else:
                yield entry, None

    @contextmanager
    def _members(
        self,
    ) -> Iterator[Iterator[tuple[LayerEntry, tarfile.TarInfo, tarfile.TarFile]]]:
        with ExitStack() as stack:
            try:
                members = self._start(stack)
            except ImageSourceError:
                raise
            except _CORRUPT as exc:
                raise self._error(f"corrupt or truncated layer ({exc})") from exc
            yield members

    def _start(
        self, stack: ExitStack
    ) -> Iterator[tuple[LayerEntry, tarfile.TarInfo, tarfile.TarFile]]:
        raw = stack.enter_context(self._opener())
        if self._seekable and self._verified:
            prefix = read_prefix(raw)
            raw.seek(0)
            if sniff(prefix) is Compression.NONE:
                self.compression = Compression.NONE
                tar = tarfile.open(fileobj=raw, mode="r:")  # noqa: SIM115 - closed by the stack
                stack.callback(tar.close)
                return self._iterate(tar, None, None)
            raw.seek(0)
        blob_hash = HashingReader(raw)
        data, kind = decompressed(cast(IO[bytes], blob_hash))
        self.compression = kind
        # Uncompressed: the blob digest is the DiffID, one hasher under the buffered reader.
        tar_hash = blob_hash if kind is Compression.NONE else HashingReader(data)
        tar_input = data if kind is Compression.NONE else tar_hash
        tar = tarfile.open(fileobj=tar_input, mode="r|", bufsize=CHUNK)  # noqa: SIM115
        stack.callback(tar.close)
        return self._iterate(tar, blob_hash, tar_hash)

    def _iterate(
        self,
        tar: tarfile.TarFile,
        blob_hash: HashingReader | None,
        tar_hash: HashingReader | None,
    ) -> Iterator[tuple[LayerEntry, tarfile.TarInfo, tarfile.TarFile]]:
        while True:
            try:
                info = tar.next()
            except _CORRUPT as exc:
                raise self._error(f"corrupt or truncated layer ({exc})") from exc
            if info is None:
                break
            # The member list is only needed for extraction by name; dropping it keeps memory
            # flat however many entries the layer has.
            cast(Any, tar).members.clear()
            entry = entry_from_tarinfo(info)
            if entry is not None:
                yield entry, info, tar
        if tar_hash is not None and blob_hash is not None:
            self._check_digests(blob_hash, tar_hash)

    def _check_digests(self, blob_hash: HashingReader, tar_hash: HashingReader) -> None:
        try:
            tar_hash.drain()
            if blob_hash is not tar_hash:
                blob_hash.drain()
        except _CORRUPT as exc:
            raise self._error(f"corrupt or truncated layer ({exc})") from exc
        self.uncompressed_size = tar_hash.count
        actual = tar_hash.hexdigest()
        self.computed_diff_id = actual
        if self.diff_id and actual != self.diff_id:
            raise self._error(f"DiffID mismatch: expected {self.diff_id}, content is {actual}")
        if self.blob_digest is not None and blob_hash.hexdigest() != self.blob_digest:
            raise self._error(
                f"blob digest mismatch: expected {self.blob_digest}, "
                f"blob is {blob_hash.hexdigest()}"
            )
        self._verified = True


class _GuardedReader:
    """A file reader that turns decompression/truncation errors into `ImageSourceError`."""

    def __init__(self, raw: IO[bytes], layer: TarLayer) -> None:
        self._raw = raw
        self._layer = layer

    def read(self, size: int = -1) -> bytes:
        try:
            return self._raw.read(size)
        except _CORRUPT as exc:
            raise self._layer._error(f"corrupt or truncated layer ({exc})") from exc

    def readable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)
