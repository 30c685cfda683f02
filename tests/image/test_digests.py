"""Layer digests hashed beside the parser: worker process by path+offset+length, thread fallback."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO

import pytest

from trimdock.errors import ImageSourceError
from trimdock.image import hashworker
from trimdock.image.digests import HASH_BUFFER, WINDOW, BlobOpener, DigestPool, extent_of
from trimdock.image.open import open_image
from trimdock.image.streams import RangeFile

from .craft import Layout, config_json, layer_tar, sha

# Not a multiple of the worker's buffer, so ranges end mid-buffer.
DATA = bytes(range(256)) * ((3 * HASH_BUFFER + 4099) // 256)
RANGES = [(0, len(DATA)), (0, 0), (1, 511), (HASH_BUFFER - 7, HASH_BUFFER + 13), (4096, 10)]


def digest(data: bytes) -> tuple[str, int]:
    return "sha256:" + hashlib.sha256(data).hexdigest(), len(data)


@pytest.fixture
def blob_file(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    path = tmp_path / "blob"
    path.write_bytes(DATA)
    fd = os.open(path, os.O_RDONLY)
    try:
        yield path, fd
    finally:
        os.close(fd)


def opener(fd: int, offset: int, size: int) -> BlobOpener:
    @contextmanager
    def open_range() -> Iterator[IO[bytes]]:
        yield RangeFile(fd, offset, size)  # type: ignore[misc]

    def make() -> AbstractContextManager[IO[bytes]]:
        return open_range()

    return make


def workers() -> list[int]:
    """This process's live (not zombie) children."""
    pids = []
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] != "Z":
                pids.append(int(pid))
    return pids


def submit_all(pool: DigestPool, path: Path, fd: int, ranges: list[tuple[int, int]]) -> list:  # type: ignore[type-arg]
    return [
        pool.submit(opener(fd, offset, size), extent_of(str(path), fd, offset, size))
        for offset, size in ranges
    ]


def assert_reaped(pids: list[int]) -> None:
    assert workers() == []
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_worker_process_hashes_byte_ranges(blob_file: tuple[Path, int]) -> None:
    path, fd = blob_file
    ranges = RANGES * (WINDOW // len(RANGES) + 2)  # more requests than the in-flight window
    pool = DigestPool()
    try:
        pids = workers()
        assert len(pids) == 1  # the hashing runs in another process
        pending = submit_all(pool, path, fd, ranges)
        # Asked for out of order: later answers are kept until wanted.
        got = [pending[-1].result(), *(p.result() for p in pending)]
    finally:
        pool.close()
    expected = [digest(DATA[offset : offset + size]) for offset, size in ranges]
    assert got == [expected[-1], *expected]
    assert_reaped(pids)


def test_a_killed_worker_is_replaced_by_the_thread(blob_file: tuple[Path, int]) -> None:
    path, fd = blob_file
    pool = DigestPool()
    try:
        (pid,) = workers()
        first = submit_all(pool, path, fd, RANGES[:1])
        os.kill(pid, signal.SIGKILL)
        rest = submit_all(pool, path, fd, RANGES[1:])
        got = [p.result() for p in [*first, *rest]]
    finally:
        pool.close()
    assert got == [digest(DATA[offset : offset + size]) for offset, size in RANGES]
    assert_reaped([pid])


def test_a_replaced_file_is_hashed_from_the_open_descriptor(
    blob_file: tuple[Path, int], tmp_path: Path
) -> None:
    path, fd = blob_file
    pool = DigestPool()
    try:
        pending = submit_all(pool, path, fd, [(0, len(DATA))])
        # Another file now sits at the path: the worker must not hash it in its place.
        other = tmp_path / "other"
        other.write_bytes(b"x" * len(DATA))
        os.replace(other, path)
        pending += submit_all(pool, path, fd, [(5, 100)])
        got = [p.result() for p in pending]
    finally:
        pool.close()
    assert got == [digest(DATA), digest(DATA[5:105])]


def test_close_stops_a_busy_worker(blob_file: tuple[Path, int]) -> None:
    path, fd = blob_file
    pool = DigestPool()
    pids = workers()
    submit_all(pool, path, fd, [(0, len(DATA))] * 50)
    pool.close()  # nothing was waited for: the worker is stopped, not left running
    assert_reaped(pids)


def test_thread_when_no_worker_can_start(
    blob_file: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, fd = blob_file
    monkeypatch.setattr("sys.executable", str(path.parent / "no-such-python"))
    pool = DigestPool()
    try:
        assert workers() == []
        got = [p.result() for p in submit_all(pool, path, fd, RANGES)]
    finally:
        pool.close()
    assert got == [digest(DATA[offset : offset + size]) for offset, size in RANGES]


def test_an_orphaned_worker_stops(tmp_path: Path) -> None:
    big = tmp_path / "big"
    with big.open("wb") as out:
        out.truncate(4 << 30)  # sparse: hashing it takes seconds
    st = big.stat()
    worker = subprocess.Popen(
        [sys.executable, "-I", "-S", hashworker.__file__, "1"],  # "1": not its parent
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    request = json.dumps([1, str(big), st.st_dev, st.st_ino, 0, st.st_size]) + "\n"
    out, err = worker.communicate(request.encode(), timeout=30)
    assert (worker.returncode, out, err) == (0, b"", b"")


def test_changed_layer_bytes_found_by_the_worker(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout")
    tar = layer_tar([("etc", None, "dir"), ("etc/hello", b"hello\n", "file")])
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar", **layout.blob(tar)}
    blob = layout.blob_path(layer["digest"])
    blob.write_bytes(tar.replace(b"hello\n", b"HELLO\n"))  # same size, headers still valid
    config = layout.blob(config_json([sha(tar)]))
    manifest = layout.blob(
        b'{"schemaVersion": 2, "config": {"mediaType": '
        b'"application/vnd.oci.image.config.v1+json", "digest": "%s", "size": %d}, '
        b'"layers": [{"mediaType": "%s", "digest": "%s", "size": %d}]}'
        % (
            config["digest"].encode(),
            config["size"],
            layer["mediaType"].encode(),
            layer["digest"].encode(),
            layer["size"],
        )
    )
    layout.index([{"mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest}])
    reference = f"oci:{layout.root}"
    with (
        pytest.raises(
            ImageSourceError, match=r"layer 0 \(sha256:[0-9a-f]{12}\): DiffID mismatch"
        ) as caught,
        open_image(reference) as image,
    ):
        assert len(workers()) == 1
        for item in image.layers:
            list(item.content.entries())
    message = str(caught.value)
    assert message.startswith(reference + ": ") and "\n" not in message
    assert "content is " + sha(tar.replace(b"hello\n", b"HELLO\n")) in message
    assert workers() == []


def test_worker_hashes_mapped_or_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "blob"
    path.write_bytes(DATA)
    st = path.stat()
    buffer = bytearray(HASH_BUFFER)
    ranges = [*RANGES, (len(DATA) - 10, 100)]  # the last one runs past the end of the file

    def hashes() -> list[tuple[str, int]]:
        return [
            hashworker.hash_range(str(path), st.st_dev, st.st_ino, offset, size, buffer)
            for offset, size in ranges
        ]

    expected = [digest(DATA[offset : offset + size]) for offset, size in ranges]
    assert hashes() == expected

    def no_mmap(*args: object, **kwargs: object) -> None:
        raise OSError("cannot map")

    monkeypatch.setattr(hashworker.mmap, "mmap", no_mmap)
    assert hashes() == expected
