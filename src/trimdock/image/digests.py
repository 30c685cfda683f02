"""Layer digests (DiffIDs) computed beside the header parser, on the other core.

A seekable uncompressed layer is parsed by seeking over file data, so verifying it means
hashing bytes the parser never reads. Where the layer is a byte range of a file on disk (an
archive member, an OCI layout blob), a worker process (`trimdock.image.hashworker`, a small
interpreter of its own) hashes it by path, offset and length with positional reads into one
reused buffer: the hashing does not compete with the parser for the GIL, and no layer bytes
pass through the parent. Elsewhere (no file behind the blob), or when no process can be
started, a worker thread hashes it from the blob opener.

The worker never decides anything: if it dies, cannot reopen the file, or finds a different
file at the path, the layers it has not answered are hashed again on the thread, so a
verification is never skipped. On close a busy worker is terminated and reaped (no orphan); an
orphaned worker notices its parent is gone within 64 MiB of reading and exits.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from typing import IO

from trimdock.image import hashworker

BlobOpener = Callable[[], AbstractContextManager[IO[bytes]]]

# The worker's reusable read buffer: big enough that one syscall and one hash update cover
# many pages, small enough not to show in peak memory.
HASH_BUFFER = hashworker.BUFFER
# Thread fallback: large reads, because the hashing thread needs the GIL back after each read
# and update while the parser holds it up to the switch interval.
THREAD_CHUNK = 8 << 20
# Requests in flight to the worker; bounded so neither side can block the other on a full pipe.
WINDOW = 16


@dataclass(frozen=True, slots=True)
class Extent:
    """A blob as a byte range of a file; `device`/`inode` identify the file that was opened."""

    path: str
    device: int
    inode: int
    offset: int
    size: int


def extent_of(path: str, fd: int, offset: int, size: int) -> Extent:
    st = os.fstat(fd)
    return Extent(os.path.abspath(path), st.st_dev, st.st_ino, offset, size)


def _hash_opened(opener: BlobOpener) -> tuple[str, int]:
    digest = hashlib.sha256()
    count = 0
    with opener() as raw:
        while chunk := raw.read(THREAD_CHUNK):
            digest.update(chunk)
            count += len(chunk)
    return "sha256:" + digest.hexdigest(), count


class PendingDigest:
    """A digest being computed: `result()` -> `(sha256:..., bytes hashed)`."""

    def __init__(self, pool: DigestPool, opener: BlobOpener, extent: Extent | None) -> None:
        self._pool = pool
        self.opener = opener
        self.extent = extent
        self.answer: tuple[str, int] | OSError | None = None
        self.fallback: Future[tuple[str, int]] | None = None

    def result(self) -> tuple[str, int]:
        """Raises OSError (or the blob's own errors on the thread path) on unreadable bytes."""
        if self.fallback is None and self.answer is None:
            self._pool._wait_for(self)
        if self.fallback is not None:
            return self.fallback.result()
        assert self.answer is not None
        if isinstance(self.answer, OSError):
            raise self.answer
        return self.answer


class DigestPool:
    """Hashes seekable uncompressed blobs beside the parser (worker process, else thread)."""

    def __init__(self, *, processes: bool = True) -> None:
        self._thread: ThreadPoolExecutor | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._queued: deque[tuple[int, PendingDigest]] = deque()
        self._sent: dict[int, PendingDigest] = {}
        self._tickets = 0
        if processes:
            self._start_worker()

    # -- public -------------------------------------------------------------------------------

    def submit(self, opener: BlobOpener, extent: Extent | None = None) -> PendingDigest:
        pending = PendingDigest(self, opener, extent)
        if extent is None or self._process is None:
            pending.fallback = self._threads().submit(_hash_opened, opener)
            return pending
        self._tickets += 1
        self._queued.append((self._tickets, pending))
        self._pump()
        return pending

    def close(self) -> None:
        self._stop_worker(graceful=not self._sent and not self._queued)
        if self._thread is not None:
            self._thread.shutdown(wait=True, cancel_futures=True)

    # -- worker process -----------------------------------------------------------------------

    def _start_worker(self) -> None:
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", hashworker.__file__, str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except (OSError, ValueError):
            self._process = None

    def _pump(self) -> None:
        process = self._process
        while process is not None and self._queued and len(self._sent) < WINDOW:
            ticket, pending = self._queued[0]
            extent = pending.extent
            assert extent is not None and process.stdin is not None
            request = [ticket, extent.path, extent.device, extent.inode, extent.offset]
            try:
                process.stdin.write(json.dumps([*request, extent.size]).encode() + b"\n")
                process.stdin.flush()
            except (OSError, ValueError):
                self._broken()
                return
            self._queued.popleft()
            self._sent[ticket] = pending

    def _wait_for(self, wanted: PendingDigest) -> None:
        while wanted.answer is None and wanted.fallback is None:
            process = self._process
            if process is None:
                self._broken()
                return
            self._pump()
            assert process.stdout is not None
            try:
                ticket, first, second = json.loads(process.stdout.readline())
            except (OSError, ValueError, TypeError):  # EOF ("" is not JSON): the worker died
                self._broken()
                return
            pending = self._sent.pop(ticket, None)
            if pending is None:
                continue
            if first == "reopen":
                pending.fallback = self._threads().submit(_hash_opened, pending.opener)
            elif first == "error":
                pending.answer = OSError(second)
            else:
                pending.answer = (first, second)
            self._pump()

    def _broken(self) -> None:
        """The worker is gone: everything it had not answered is hashed on the thread."""
        self._stop_worker(graceful=False)
        threads = self._threads()
        for pending in [*self._sent.values(), *(p for _t, p in self._queued)]:
            if pending.answer is None and pending.fallback is None:
                pending.fallback = threads.submit(_hash_opened, pending.opener)
        self._sent.clear()
        self._queued.clear()

    def _stop_worker(self, *, graceful: bool) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with suppress(OSError, ValueError):
            assert process.stdin is not None
            process.stdin.close()  # EOF: an idle worker exits by itself
        if not graceful:
            process.terminate()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def _threads(self) -> ThreadPoolExecutor:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trimdock-digest")
        return self._thread
