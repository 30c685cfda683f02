"""One streamed pass over an image's layers: the exact final filesystem, plus the bytes of the
few files the analyses need (package databases, metadata files, Go build info, secret-bearing
files), selected by path before any byte is read.

Every layer's headers go through the same `Overlay` the `layers` command uses, so "is this file
still visible at the end, or did a later layer delete it" has one answer everywhere. Readers are
only valid until the next entry, so a selected file is read while its entry is current.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO

from trimdock.image.model import EntryType, Image, LayerEntry
from trimdock.layers.overlay import Overlay


class Kind(StrEnum):
    """Why a file's bytes are read."""

    OS_RELEASE = "os-release"
    DPKG_STATUS = "dpkg-status"
    DPKG_STATUS_D = "dpkg-status.d"
    APK_INSTALLED = "apk-installed"
    PYTHON_METADATA = "python-metadata"
    NPM_PACKAGE = "npm-package"
    GO_BINARY = "go-binary"
    SECRET_CANDIDATE = "secret-candidate"


# How much of a selected file is read: package databases can be a few MiB, metadata files are
# read for their headers only (a METADATA file may carry a whole README after them).
_LIMITS = {
    Kind.OS_RELEASE: 64 * 1024,
    Kind.DPKG_STATUS: 64 * 1024 * 1024,
    Kind.DPKG_STATUS_D: 1024 * 1024,
    Kind.APK_INSTALLED: 64 * 1024 * 1024,
    Kind.PYTHON_METADATA: 256 * 1024,
    Kind.NPM_PACKAGE: 1024 * 1024,
    Kind.SECRET_CANDIDATE: 256 * 1024,
}

GO_BUILDINFO_MAGIC = b"\xff Go buildinf:"
# The build info header plus its inline strings: module lists of large programs stay far below.
_GO_BLOB = 1024 * 1024
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileHit:
    """The bytes (possibly truncated to the kind's limit) of one selected file in one layer."""

    layer: int
    path: str
    kind: Kind
    data: bytes
    mode: int = 0o644


@dataclass
class Collected:
    """What the pass produced: the selected files and the final filesystem."""

    hits: list[FileHit] = field(default_factory=list)
    overlay: Overlay = field(default_factory=Overlay)
    layer_count: int = 0

    def of(self, kind: Kind) -> list[FileHit]:
        return [hit for hit in self.hits if hit.kind is kind]

    def visible(self, hit: FileHit) -> bool:
        """Whether this layer's copy of the file is the one in the final filesystem."""
        node = self.overlay.visible(hit.path)
        return node is not None and node.e_layer == hit.layer


Selector = Callable[[LayerEntry], Kind | None]


def select_inventory(entry: LayerEntry) -> Kind | None:
    """The kind of a file the inventory reads, from its path and mode alone (pure)."""
    if entry.type is not EntryType.FILE:
        return None
    path = entry.path
    if path in ("etc/os-release", "usr/lib/os-release"):
        return Kind.OS_RELEASE
    if path == "var/lib/dpkg/status":
        return Kind.DPKG_STATUS
    if path.startswith("var/lib/dpkg/status.d/") and not path.endswith(".md5sums"):
        return Kind.DPKG_STATUS_D
    if path == "lib/apk/db/installed":
        return Kind.APK_INSTALLED
    parent, _, name = path.rpartition("/")
    if name == "METADATA" and parent.endswith(".dist-info"):
        return Kind.PYTHON_METADATA
    if (name == "PKG-INFO" and parent.endswith(".egg-info")) or (
        name.endswith(".egg-info") and "-packages/" in path
    ):
        return Kind.PYTHON_METADATA
    if name == "package.json" and _is_npm_package_dir(parent):
        return Kind.NPM_PACKAGE
    if entry.mode & 0o111 and entry.size > 1024 and not _is_shared_library(name):
        return Kind.GO_BINARY
    return None


def _is_npm_package_dir(directory: str) -> bool:
    """`.../node_modules/NAME` or `.../node_modules/@SCOPE/NAME`."""
    above, _, name = directory.rpartition("/")
    if not name or name.startswith("."):
        return False
    if above.rpartition("/")[2] == "node_modules":
        return not name.startswith("@")
    scope_parent, _, scope = above.rpartition("/")
    return scope.startswith("@") and scope_parent.rpartition("/")[2] == "node_modules"


def _is_shared_library(name: str) -> bool:
    return name.endswith(".so") or ".so." in name


def collect(
    image: Image,
    selectors: tuple[Selector, ...] = (select_inventory,),
) -> Collected:
    """Stream every layer once: apply it to the overlay and read the files a selector picks."""
    result = Collected(overlay=Overlay(source=image.reference))
    for layer in image.layers:
        with layer.content.open() as stream:
            result.overlay.apply(_tap(stream, layer.index, selectors, result.hits))
        result.layer_count += 1
    return result


def _tap(
    stream: Iterator[tuple[LayerEntry, IO[bytes] | None]],
    layer: int,
    selectors: tuple[Selector, ...],
    hits: list[FileHit],
) -> Iterator[LayerEntry]:
    for entry, reader in stream:
        if reader is not None:
            for selector in selectors:
                kind = selector(entry)
                if kind is None:
                    continue
                data = _read(reader, kind)
                if data is not None:
                    hits.append(FileHit(layer, entry.path, kind, data, entry.mode))
                break
        yield entry


def _read(reader: IO[bytes], kind: Kind) -> bytes | None:
    if kind is Kind.GO_BINARY:
        return read_go_buildinfo(reader)
    return reader.read(_LIMITS[kind])


def read_go_buildinfo(reader: IO[bytes]) -> bytes | None:
    """The build info blob of a Go ELF binary (from its magic on), or None for other files.

    The `.go.buildinfo` section is found by its 16-byte-aligned magic while streaming, so no
    section table (at the end of the file) is needed.
    """
    head = reader.read(4)
    if head != b"\x7fELF":
        return None
    offset = 4
    tail = b""
    while True:
        chunk = reader.read(_CHUNK)
        if not chunk:
            return None
        window = tail + chunk
        start = 0
        while True:
            found = window.find(GO_BUILDINFO_MAGIC, start)
            if found < 0:
                break
            if (offset - len(tail) + found) % 16 == 0:
                blob = window[found:]
                if len(blob) < _GO_BLOB:
                    blob += reader.read(_GO_BLOB - len(blob))
                return blob[:_GO_BLOB]
            start = found + 1
        offset += len(chunk)
        tail = window[-(len(GO_BUILDINFO_MAGIC) - 1) :]
