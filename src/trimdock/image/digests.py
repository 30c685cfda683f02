"""Layer digests (DiffIDs) computed beside the header parser, on the other core.

A seekable uncompressed layer is parsed by seeking over file data, so verifying it means
hashing bytes the parser never reads. Where the layer is a byte range of a file on disk (an
archive member, an OCI layout blob), a forked worker process hashes it by path, offset and
length with positional reads into one reused buffer: the hashing no longer competes with the
parser for the GIL, and no layer bytes pass through the parent. Elsewhere (no file behind the
blob), or when no process can be started, a worker thread hashes it from the blob opener.

The worker never decides anything: if it dies, cannot reopen the file, or finds a different
file at the path, the layers it has not answered are hashed again on the thread, so a
verification is never skipped. On close a busy worker is terminated and reaped (no orphan);
the worker also dies with its parent (Linux `PR_SET_PDEATHSIG`).
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import ForkProcess

BlobOpener = Callable[[], AbstractContextManager[IO[bytes]]]

# The worker's reusable read buffer: big enough that one syscall and one hash update cover
# many pages, small enough not to show in peak memory.
HASH_BUFFER = 1 << 20
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


class _Reopen(Exception):
    """The worker cannot read this extent by path; the parent hashes it itself."""


def hash_extent(extent: Extent, buffer: bytearray) -> tuple[str, int]:
    """sha256 of the extent, read into `buffer`. OSError = unreadable bytes."""
    try:
        raw = open(extent.path, "rb", buffering=0)  # noqa: SIM115 - closed below
    except OSError as exc:
        raise _Reopen(str(exc)) from exc
    with raw:
        st = os.fstat(raw.fileno())
        if (st.st_dev, st.st_ino) != (extent.device, extent.inode):
            raise _Reopen("a different file is at the path now")
        digest = hashlib.sha256()
        view = memoryview(buffer)
        raw.seek(extent.offset)
        remaining = extent.size
        count = 0
        while remaining > 0:
            got = raw.readinto(view[: min(remaining, len(view))])
            if not got:
                break  # short file: the digest of what is there will not match
            digest.update(view[:got])
            remaining -= got
            count += got
    return "sha256:" + digest.hexdigest(), count


def _hash_opened(opener: BlobOpener) -> tuple[str, int]:
    digest = hashlib.sha256()
    count = 0
    with opener() as raw:
        while chunk := raw.read(THREAD_CHUNK):
            digest.update(chunk)
            count += len(chunk)
    return "sha256:" + digest.hexdigest(), count


def _serve(conn: Connection, parent: int) -> None:
    """The worker: answer `(ticket, extent)` requests in order until `None` or EOF."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        _die_with(parent)
        buffer = bytearray(HASH_BUFFER)
        while (request := conn.recv()) is not None:
            ticket, extent = request
            try:
                digest, count = hash_extent(extent, buffer)
            except _Reopen as exc:
                conn.send((ticket, "reopen", str(exc)))
            except OSError as exc:
                conn.send((ticket, "error", str(exc)))
            else:
                conn.send((ticket, digest, count))
    except BaseException:  # EOF, a dead parent: leave quietly, never a traceback
        pass
    finally:
        os._exit(0)


def _die_with(parent: int) -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


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
        self._process: ForkProcess | None = None
        self._conn: Connection | None = None
        self._queued: deque[tuple[int, PendingDigest]] = deque()
        self._sent: dict[int, PendingDigest] = {}
        self._tickets = 0
        if processes:
            self._start_worker()

    # -- public -------------------------------------------------------------------------------

    def submit(self, opener: BlobOpener, extent: Extent | None = None) -> PendingDigest:
        pending = PendingDigest(self, opener, extent)
        if extent is None or self._conn is None:
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
        # A fork while another thread holds a lock could deadlock the child: only fork from
        # a single-threaded parent; otherwise the thread does the work.
        if threading.active_count() > 1 or not hasattr(os, "fork"):
            return
        try:
            import multiprocessing

            context = multiprocessing.get_context("fork")
            parent_end, child_end = context.Pipe(duplex=True)
            # The child flushes inherited stdio buffers on exit: empty them first.
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            process = context.Process(
                target=_serve,
                args=(child_end, os.getpid()),
                name="trimdock-digest",
                daemon=True,
            )
            process.start()
        except (OSError, ValueError):
            return
        child_end.close()  # the worker holds the only copy: its death is EOF here
        self._process, self._conn = process, parent_end

    def _pump(self) -> None:
        conn = self._conn
        while conn is not None and self._queued and len(self._sent) < WINDOW:
            ticket, pending = self._queued[0]
            try:
                conn.send((ticket, pending.extent))
            except (OSError, ValueError):
                self._broken()
                return
            self._queued.popleft()
            self._sent[ticket] = pending

    def _wait_for(self, wanted: PendingDigest) -> None:
        while wanted.answer is None and wanted.fallback is None:
            conn = self._conn
            if conn is None:
                self._broken()
                return
            self._pump()
            try:
                ticket, first, second = conn.recv()
            except (EOFError, OSError, ValueError, TypeError):
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
        process, conn = self._process, self._conn
        self._process, self._conn = None, None
        if process is None or conn is None:
            return
        if graceful:
            with suppress(OSError, ValueError):
                conn.send(None)
            process.join(timeout=2)
        if process.is_alive():
            process.terminate()
            process.join(timeout=2)
        if process.is_alive():
            process.kill()
            process.join()
        conn.close()
        process.close()

    def _threads(self) -> ThreadPoolExecutor:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trimdock-digest")
        return self._thread
