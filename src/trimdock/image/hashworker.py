"""The digest worker process: sha256 of byte ranges of files, by path, offset and length.

Run as a script by `trimdock.image.digests` (`python -I -S hashworker.py PARENT_PID`), so it
imports the standard library only and stays a small interpreter: a forked copy of the parent
would keep (and, as the parent's heap changes, privately own) the parent's memory.

Protocol, one JSON array per line. Request on stdin:
`[ticket, path, device, inode, offset, size]`; reply on stdout: `[ticket, "sha256:...", bytes]`,
`[ticket, "reopen", why]` (the path cannot be opened or is another file now: the parent hashes
the range itself) or `[ticket, "error", why]` (the bytes cannot be read). EOF on stdin ends it.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import signal
import sys

TYPE_CHECKING = False  # the typing module is not imported at run time: a lean worker
if TYPE_CHECKING:
    from io import FileIO
    from typing import Any

BUFFER = 1 << 20
# Between two checks that the parent is alive (in buffers of data): a worker orphaned
# mid-layer stops within 64 MiB.
CHECK_EVERY = 64


class Reopen(Exception):
    """This range cannot be read by path; the parent must hash it itself."""


def hash_range(
    path: str, device: int, inode: int, offset: int, size: int, buffer: bytearray, parent: int = 0
) -> tuple[str, int]:
    """sha256 of `size` bytes at `offset` of `path` (OSError: unreadable).

    The file is mapped one `len(buffer)` window at a time, which saves copying every byte out
    of the page cache; where it cannot be mapped it is read into `buffer`. (A file truncated
    under a mapping kills this process with SIGBUS: the parent then hashes the range itself.)
    """
    try:
        raw = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise Reopen(str(exc)) from exc
    with raw:
        st = os.fstat(raw.fileno())
        if (st.st_dev, st.st_ino) != (device, inode):
            raise Reopen("another file is at the path now")
        digest = hashlib.sha256()
        size = max(0, min(size, st.st_size - offset))  # a short file: its digest will not match
        if size:
            try:
                count = _hash_mapped(raw.fileno(), offset, size, len(buffer), digest, parent)
            except (OSError, ValueError):
                digest = hashlib.sha256()
                count = _hash_read(raw, offset, size, buffer, digest, parent)
        else:
            count = 0
    return "sha256:" + digest.hexdigest(), count


def _hash_mapped(fd: int, offset: int, size: int, window: int, digest: Any, parent: int) -> int:
    start = offset - offset % mmap.ALLOCATIONGRANULARITY
    end = offset + size
    windows = 0
    while start < end:
        length = min(window, end - start)
        with mmap.mmap(fd, length, access=mmap.ACCESS_READ, offset=start) as mapped:
            skip = max(0, offset - start)
            with memoryview(mapped) as view:
                digest.update(view[skip:])
        start += length
        windows += 1
        _check_parent(parent, windows)
    return size


def _hash_read(
    raw: FileIO, offset: int, size: int, buffer: bytearray, digest: Any, parent: int
) -> int:
    view = memoryview(buffer)
    raw.seek(offset)
    remaining, count, reads = size, 0, 0
    while remaining > 0:
        got = raw.readinto(view[: min(remaining, len(view))])
        if not got:
            break
        digest.update(view[:got])
        remaining -= got
        count += got
        reads += 1
        _check_parent(parent, reads)
    return count


def _check_parent(parent: int, step: int) -> None:
    if parent and step % CHECK_EVERY == 0 and os.getppid() != parent:
        raise SystemExit(0)


def main(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to report
    buffer = bytearray(BUFFER)
    out = sys.stdout
    for line in sys.stdin:
        ticket, path, device, inode, offset, size = json.loads(line)
        try:
            digest, count = hash_range(path, device, inode, offset, size, buffer, parent)
        except Reopen as exc:
            reply = [ticket, "reopen", str(exc)]
        except OSError as exc:
            reply = [ticket, "error", str(exc)]
        else:
            reply = [ticket, digest, count]
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    try:
        main(int(sys.argv[1]))
    except BaseException:  # a dead parent (broken pipe), a bad request: leave quietly
        os._exit(0)
