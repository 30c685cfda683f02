"""Byte streams for layer blobs: file ranges, hashing, compression sniffed from the bytes.

A layer blob is read through a small pipeline: a raw reader (a range of an archive file, a
blob file, a chunked HTTP stream), a hasher for the stored digest, a decompressor chosen from
the magic bytes (gzip via isal's igzip, zstd, or none), and a hasher for the DiffID.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from enum import StrEnum
from typing import IO, Any, cast

import isal.igzip
import zstandard

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 1 << 20


class Compression(StrEnum):
    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"


def sniff(prefix: bytes) -> Compression:
    """The compression of a blob from its first bytes (media types are not trusted)."""
    if prefix.startswith(GZIP_MAGIC):
        return Compression.GZIP
    if prefix.startswith(ZSTD_MAGIC):
        return Compression.ZSTD
    return Compression.NONE


class RangeFile(io.RawIOBase):
    """A seekable read-only view of `size` bytes at `offset` of a file (positional reads).

    Several views may share one file descriptor: `os.pread` never moves a shared position.
    """

    def __init__(self, fd: int, offset: int, size: int) -> None:
        super().__init__()
        self._fd = fd
        self._offset = offset
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            pos += self._pos
        elif whence == os.SEEK_END:
            pos += self._size
        self._pos = max(0, pos)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        remaining = self._size - self._pos
        if size is None or size < 0 or size > remaining:
            size = remaining
        if size <= 0:
            return b""
        data = os.pread(self._fd, size, self._offset + self._pos)
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class HashingReader(io.RawIOBase):
    """Forward-only reader that hashes (sha256) and counts every byte passing through.

    `seek` forward reads and hashes the skipped bytes, so a tar parser written for seekable
    files can run over it and still cover the whole stream. Large reads are hashed on a helper
    thread (hashlib releases the GIL), in order and at most `HASH_BEHIND` reads behind, so
    hashing overlaps the parsing of the bytes that follow.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._hash = hashlib.sha256()
        self._behind: deque[Future[None]] = deque()
        self.count = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.count

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(-1 if size is None else size)
        if data:
            if len(data) < HASH_ASYNC_MIN and not self._behind:
                self._hash.update(data)
            else:
                self._behind.append(_hasher().submit(self._hash.update, data))
                if len(self._behind) > HASH_BEHIND:
                    self._behind.popleft().result()
            self.count += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            pos += self.count
        if whence == os.SEEK_END or pos < self.count:
            raise io.UnsupportedOperation("forward-only stream")
        while self.count < pos:
            if not self.read(min(CHUNK, pos - self.count)):
                break
        return self.count

    def drain(self) -> None:
        """Read (and hash) to the end of the stream."""
        while self.read(CHUNK):
            pass

    def hexdigest(self) -> str:
        while self._behind:
            self._behind.popleft().result()
        return "sha256:" + self._hash.hexdigest()


# Reads at least this large are hashed on the helper thread (smaller ones are not worth a
# thread hand-off); at most HASH_BEHIND of them wait, which bounds the memory they hold.
HASH_ASYNC_MIN = 64 << 10
HASH_BEHIND = 4
_HASHER: ThreadPoolExecutor | None = None


def _hasher() -> ThreadPoolExecutor:
    global _HASHER
    if _HASHER is None:
        _HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trimdock-hash")
    return _HASHER


class PrefixedReader(io.RawIOBase):
    """A stream whose first bytes were already consumed (for sniffing) and are given back."""

    def __init__(self, prefix: bytes, raw: IO[bytes]) -> None:
        super().__init__()
        self._prefix = prefix
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._prefix:
            if size is None or size < 0:
                data = self._prefix + self._raw.read()
                self._prefix = b""
                return data
            data, self._prefix = self._prefix[:size], self._prefix[size:]
            return data
        return self._raw.read(-1 if size is None else size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def read_prefix(raw: IO[bytes], size: int = 8) -> bytes:
    """Up to `size` bytes from the start of `raw` (short reads of pipes are retried)."""
    prefix = b""
    while len(prefix) < size:
        chunk = raw.read(size - len(prefix))
        if not chunk:
            break
        prefix += chunk
    return prefix


def decompressed(raw: IO[bytes]) -> tuple[IO[bytes], Compression]:
    """The uncompressed stream of a blob, whatever its (sniffed) compression."""
    prefix = read_prefix(raw)
    kind = sniff(prefix)
    stream: IO[bytes] = io.BufferedReader(PrefixedReader(prefix, raw), CHUNK)
    if kind is Compression.GZIP:
        return cast(IO[bytes], isal.igzip.IGzipFile(fileobj=stream, mode="rb")), kind  # type: ignore[no-untyped-call]
    if kind is Compression.ZSTD:
        reader = zstandard.ZstdDecompressor().stream_reader(
            stream, read_size=CHUNK, read_across_frames=True
        )
        return reader, kind
    return stream, kind


def iter_chunks(raw: IO[bytes]) -> Iterator[bytes]:
    while chunk := raw.read(CHUNK):
        yield chunk
