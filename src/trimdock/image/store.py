"""Random access to the files of an image archive (a tar) or an OCI layout directory.

An outer archive is indexed once (member name -> data offset and size, seeking over the
data), then every member is read with positional reads on one shared descriptor, in any
order: `manifest.json` usually comes after the layers. A compressed outer archive, or one read
from a pipe, cannot be read that way; it is copied once, uncompressed, into an anonymous
temporary file, bounded by the free space of the temporary folder (`spool_limit`).
"""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, cast

from trimdock.errors import ImageSourceError
from trimdock.image.digests import Extent, extent_of
from trimdock.image.streams import CHUNK, Compression, RangeFile, decompressed, sniff
from trimdock.image.tarentry import normalise_path
from trimdock.report.units import human_bytes

# Small JSON documents (manifests, configs, indexes) are read whole; a larger one is hostile.
MAX_DOCUMENT = 64 << 20
# A spooled archive (compressed, or from a pipe) may use the free space of the temporary
# folder's file system less this share of it (at most SPOOL_MARGIN_MAX), so that a
# decompression bomb fails with a clear error before it fills the disk other programs need.
SPOOL_MARGIN_SHARE = 10
SPOOL_MARGIN_MAX = 1 << 30

_FILE_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def open_input(path: Path, name: str) -> int:
    """A read descriptor for an archive file or a pipe; other kinds of file are refused.

    Never blocks: a FIFO is opened non-blocking (a FIFO nobody writes to then reads as empty,
    instead of waiting forever for a writer), then switched back to blocking reads.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise ImageSourceError("no such file", source=name) from exc
    except OSError as exc:
        raise ImageSourceError(f"cannot open archive ({exc.strerror})", source=name) from exc
    if stat.S_ISDIR(st.st_mode):
        raise ImageSourceError("is a directory, not an archive", source=name)
    for test, what in _FILE_KINDS:
        if test(st.st_mode):
            raise ImageSourceError(f"is {what}, not an archive file", source=name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ImageSourceError(f"cannot open archive ({exc.strerror})", source=name) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise ImageSourceError("is not a regular file or a pipe", source=name)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def spool_limit(directory: str) -> int:
    """How many bytes a spooled archive may take in `directory` (see SPOOL_MARGIN_SHARE)."""
    free = shutil.disk_usage(directory).free
    return max(0, free - min(free // SPOOL_MARGIN_SHARE, SPOOL_MARGIN_MAX))


def spool(fd: int, name: str) -> int:
    """The uncompressed bytes read from `fd`, in an anonymous temporary file (a new fd).

    Random access is needed (`manifest.json` usually comes after the layers), so a compressed
    archive or a pipe cannot be read in place. The copy is bounded by `spool_limit`.
    """
    directory = tempfile.gettempdir()
    limit = spool_limit(directory)
    # O_TMPFILE on Linux: the file has no name, so no signal or crash can leave it behind.
    with tempfile.TemporaryFile(prefix="trimdock-", suffix=".tar") as out:
        try:
            with os.fdopen(fd, "rb", closefd=False) as raw:
                data, _kind = decompressed(raw)
                copied = 0
                while chunk := data.read(CHUNK):
                    copied += len(chunk)
                    if copied > limit:
                        raise ImageSourceError(
                            f"uncompressed, the archive is larger than {human_bytes(limit)} "
                            f"({limit} bytes), the free space of the temporary folder "
                            f"{directory} less a safety margin; set TMPDIR to a larger file "
                            "system or decompress it yourself",
                            source=name,
                        )
                    out.write(chunk)
                out.flush()
        except ImageSourceError:
            raise
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise ImageSourceError(
                    f"no space left in the temporary folder {directory} to decompress it",
                    source=name,
                ) from exc
            raise _corrupt(exc, name) from exc
        except Exception as exc:  # EOFError, zlib/isal/zstd errors from a damaged stream
            raise _corrupt(exc, name) from exc
        return os.dup(out.fileno())


def _corrupt(exc: BaseException, name: str) -> ImageSourceError:
    return ImageSourceError(f"corrupt or truncated compressed archive ({exc})", source=name)


class Store(Protocol):
    """The files of an image container, by `/`-separated relative name."""

    name: str  # the input, for error messages
    seekable: bool

    def exists(self, name: str) -> bool: ...

    def size(self, name: str) -> int: ...

    def read(self, name: str) -> bytes: ...

    def opener(self, name: str) -> AbstractContextManager[IO[bytes]]: ...

    def extent(self, name: str) -> Extent | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _Member:
    offset: int
    size: int
    type: bytes
    linkname: str


class TarStore:
    """An uncompressed tar archive indexed for random access.

    A compressed archive, or one that arrives through a pipe (`<(cat image.tar)`), is copied
    once into an anonymous temporary file (see `spool`), which the kernel frees when it is
    closed or the process dies, whatever the signal: nothing is ever left in `$TMPDIR`.
    """

    seekable = True

    def __init__(self, path: Path, name: str) -> None:
        self.name = name
        self._fd = -1
        self._file = str(path)
        try:
            self._fd = open_input(path, name)
            st = os.fstat(self._fd)
            piped = stat.S_ISFIFO(st.st_mode)
            if piped or sniff(os.pread(self._fd, 8, 0)) is not Compression.NONE:
                source_fd, self._fd = self._fd, -1
                try:
                    self._fd = spool(source_fd, name)
                finally:
                    os.close(source_fd)
                # The worker process hashing layers by path reaches the anonymous file here.
                self._file = f"/proc/{os.getpid()}/fd/{self._fd}"
                st = os.fstat(self._fd)
            self._members = self._index(self._fd, st.st_size)
        except BaseException:
            # One owner for the descriptor (`close` resets it): an error in any phase, or an
            # interrupt, closes it once and leaves nothing behind.
            self.close()
            raise

    def _index(self, fd: int, file_size: int) -> dict[str, _Member]:
        members: dict[str, _Member] = {}
        if file_size == 0:
            raise ImageSourceError("empty file, not an image archive", source=self.name)
        try:
            with tarfile.open(fileobj=RangeFile(fd, 0, file_size), mode="r:") as tar:
                previous = -1
                for info in tar:
                    cast(Any, tar).members.clear()
                    if info.size < 0 or info.offset <= previous:
                        # A negative (base-256 or pax) size moves tarfile backwards.
                        raise ImageSourceError(
                            f"corrupt archive: member {info.name!r} has a negative size",
                            source=self.name,
                        )
                    previous = info.offset
                    if info.offset_data + info.size > file_size and info.isreg():
                        raise ImageSourceError(
                            f"truncated archive: member {info.name!r} needs "
                            f"{info.offset_data + info.size} bytes, file has {file_size}",
                            source=self.name,
                        )
                    members[normalise_path(info.name)] = _Member(
                        info.offset_data, info.size, info.type, info.linkname
                    )
        except tarfile.TarError as exc:
            raise ImageSourceError(
                f"not a tar archive, or truncated or corrupt ({exc})", source=self.name
            ) from exc
        return members

    def _resolve(self, name: str) -> _Member | None:
        """The member for `name`, following in-archive symlinks and hard links."""
        name = normalise_path(name)
        for _ in range(16):
            member = self._members.get(name)
            if member is None:
                return None
            if member.type == tarfile.SYMTYPE:
                name = normalise_path(posixpath.join(posixpath.dirname(name), member.linkname))
            elif member.type == tarfile.LNKTYPE:
                name = normalise_path(member.linkname)
            else:
                return member
        return None

    def _regular(self, name: str) -> _Member:
        member = self._resolve(name)
        if member is None or member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
            raise ImageSourceError(f"missing file {name!r} in the archive", source=self.name)
        return member

    def exists(self, name: str) -> bool:
        member = self._resolve(name)
        return member is not None and member.type in (tarfile.REGTYPE, tarfile.AREGTYPE)

    def size(self, name: str) -> int:
        return self._regular(name).size

    def read(self, name: str) -> bytes:
        member = self._regular(name)
        if member.size > MAX_DOCUMENT:
            raise ImageSourceError(f"{name!r} is too large for a document", source=self.name)
        return os.pread(self._fd, member.size, member.offset)

    def opener(self, name: str) -> AbstractContextManager[IO[bytes]]:
        member = self._regular(name)
        return nullcontext(RangeFile(self._fd, member.offset, member.size))  # type: ignore[arg-type]

    def extent(self, name: str) -> Extent | None:
        member = self._regular(name)
        return extent_of(self._file, self._fd, member.offset, member.size)

    def names(self) -> Iterator[str]:
        return iter(self._members)

    def close(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)


class DirStore:
    """An OCI image layout directory."""

    seekable = True

    def __init__(self, root: Path, name: str) -> None:
        self.name = name
        self._root = root
        if not root.is_dir():
            raise ImageSourceError("no such directory", source=name)

    def _path(self, name: str) -> Path:
        clean = normalise_path(name)
        if not clean or clean.startswith(".."):
            raise ImageSourceError(f"invalid file name {name!r}", source=self.name)
        return self._root / clean

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def size(self, name: str) -> int:
        try:
            return self._path(name).stat().st_size
        except OSError as exc:
            raise ImageSourceError(
                f"missing file {name!r} ({exc.strerror})", source=self.name
            ) from exc

    def read(self, name: str) -> bytes:
        if self.size(name) > MAX_DOCUMENT:
            raise ImageSourceError(f"{name!r} is too large for a document", source=self.name)
        return self._path(name).read_bytes()

    @contextmanager
    def _open(self, path: Path) -> Iterator[IO[bytes]]:
        fd = os.open(path, os.O_RDONLY)
        try:
            yield RangeFile(fd, 0, os.fstat(fd).st_size)  # type: ignore[misc]
        finally:
            os.close(fd)

    def opener(self, name: str) -> AbstractContextManager[IO[bytes]]:
        path = self._path(name)
        if not path.is_file():
            raise ImageSourceError(f"missing file {name!r}", source=self.name)
        return self._open(path)

    def extent(self, name: str) -> Extent | None:
        path = self._path(name)
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            return extent_of(str(path), fd, 0, os.fstat(fd).st_size)
        finally:
            os.close(fd)

    def close(self) -> None:
        pass
