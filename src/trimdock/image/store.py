"""Random access to the files of an image archive (a tar) or an OCI layout directory.

An outer archive is indexed once (member name -> data offset and size, seeking over the
data), then every member is read with positional reads on one shared descriptor, in any
order: `manifest.json` usually comes after the layers. A compressed outer archive cannot be
read that way; it is decompressed once into a temporary file (deleted on close).
"""

from __future__ import annotations

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

# Small JSON documents (manifests, configs, indexes) are read whole; a larger one is hostile.
MAX_DOCUMENT = 64 << 20


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
    """An uncompressed tar archive indexed for random access."""

    seekable = True

    def __init__(self, path: Path, name: str) -> None:
        self.name = name
        self._temp: Path | None = None
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise ImageSourceError(f"cannot open archive ({exc.strerror})", source=name) from exc
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise ImageSourceError("is a directory, not an archive", source=name)
            head = os.pread(fd, 8, 0)
            if sniff(head) is not Compression.NONE:
                os.close(fd)
                fd = self._decompress_to_temp(path)
                st = os.fstat(fd)
            self._fd = fd
            self._file = str(self._temp or path)
            self._members = self._index(fd, st.st_size)
        except BaseException:
            os.close(fd)
            self._remove_temp()
            raise

    def _decompress_to_temp(self, path: Path) -> int:
        handle, temp = tempfile.mkstemp(prefix="trimdock-", suffix=".tar")
        self._temp = Path(temp)
        try:
            with open(path, "rb") as raw, os.fdopen(handle, "wb") as out:
                data, _kind = decompressed(raw)
                shutil.copyfileobj(data, out, CHUNK)
        except (OSError, EOFError, ValueError) as exc:
            raise ImageSourceError(
                f"corrupt or truncated compressed archive ({exc})", source=self.name
            ) from exc
        except Exception as exc:  # zstandard.ZstdError and friends
            raise ImageSourceError(
                f"corrupt or truncated compressed archive ({exc})", source=self.name
            ) from exc
        return os.open(temp, os.O_RDONLY)

    def _index(self, fd: int, file_size: int) -> dict[str, _Member]:
        members: dict[str, _Member] = {}
        if file_size == 0:
            raise ImageSourceError("empty file, not an image archive", source=self.name)
        try:
            with tarfile.open(fileobj=RangeFile(fd, 0, file_size), mode="r:") as tar:
                for info in tar:
                    cast(Any, tar).members.clear()
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

    def _remove_temp(self) -> None:
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._remove_temp()


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
