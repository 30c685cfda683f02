"""The exact final filesystem of an image, plus the bytes of the few files the analyses need
(package databases, metadata files, Go build info, secret-bearing files), selected by path
before any byte is read.

Every layer's headers go through the same `Overlay` the `layers` command uses, so "is this file
still visible at the end, or did a later layer delete it" has one answer everywhere. Only the
layers holding a selected file are then opened for bytes; readers are valid until the next
entry, so a selected file is read while its entry is current.
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


_INVENTORY_NAMES = frozenset(
    {"os-release", "status", "installed", "METADATA", "PKG-INFO", "package.json"}
)


def select_inventory(entry: LayerEntry) -> Kind | None:
    """The kind of a file the inventory reads, from its path and mode alone (pure).

    Runs for every tar entry of every layer: the common case (an uninteresting name, not
    executable) is decided by one set look-up and a mode test.
    """
    if entry.type is not EntryType.FILE:
        return None
    path = entry.path
    parent, _, name = path.rpartition("/")
    if name in _INVENTORY_NAMES or name.endswith(".egg-info") or parent == "var/lib/dpkg/status.d":
        return _inventory_kind(path, parent, name)
    if entry.mode & 0o111 and entry.size > 1024 and not _is_shared_library(name):
        return Kind.GO_BINARY
    return None


def _inventory_kind(path: str, parent: str, name: str) -> Kind | None:
    if path in ("etc/os-release", "usr/lib/os-release"):
        return Kind.OS_RELEASE
    if path == "var/lib/dpkg/status":
        return Kind.DPKG_STATUS
    if parent == "var/lib/dpkg/status.d":
        return None if name.endswith(".md5sums") else Kind.DPKG_STATUS_D
    if path == "lib/apk/db/installed":
        return Kind.APK_INSTALLED
    if (name == "METADATA" and parent.endswith(".dist-info")) or (
        name == "PKG-INFO" and parent.endswith(".egg-info")
    ):
        return Kind.PYTHON_METADATA
    if name.endswith(".egg-info") and "-packages/" in path:
        return Kind.PYTHON_METADATA
    if name == "package.json" and _is_npm_package_dir(parent):
        return Kind.NPM_PACKAGE
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
    """Apply every layer's headers to the overlay, picking files by path; then read the picked
    files, opening only the layers that have any.

    Headers come from `entries()`, which the sources serve cheaply (seeks over file data in
    uncompressed archives, cached headers for the engine); a layer of application data with
    nothing to read is never opened for its bytes.
    """
    result = Collected(overlay=Overlay(source=image.reference))
    for layer in image.layers:
        # Queue every layer's digest check at once (sources that hash on a worker), as
        # `layers` does, so hashing overlaps the whole pass instead of waiting per layer.
        prefetch = getattr(layer.content, "prefetch_digest", None)
        if callable(prefetch):
            prefetch()
    picked: list[dict[str, Kind]] = []
    for layer in image.layers:
        picks: dict[str, Kind] = {}
        result.overlay.apply(_pick(layer.content.entries(), selectors, picks))
        picked.append(picks)
        result.layer_count += 1
    for layer, picks in zip(image.layers, picked, strict=True):
        if not picks:
            continue
        with layer.content.open() as stream:
            for entry, reader in stream:
                kind = picks.get(entry.path)
                if kind is None or reader is None:
                    continue
                data = _read(reader, kind)
                if data is not None:
                    result.hits.append(FileHit(layer.index, entry.path, kind, data, entry.mode))
    return result


def _pick(
    entries: Iterator[LayerEntry], selectors: tuple[Selector, ...], picks: dict[str, Kind]
) -> Iterator[LayerEntry]:
    for entry in entries:
        if entry.type is EntryType.FILE:
            for selector in selectors:
                kind = selector(entry)
                if kind is not None:
                    picks[entry.path] = kind
                    break
        yield entry


def _read(reader: IO[bytes], kind: Kind) -> bytes | None:
    if kind is Kind.GO_BINARY:
        return read_go_buildinfo(reader)
    return reader.read(_LIMITS[kind])


_GO_NOTE = b"\x04\x00\x00\x00Go\x00\x00"  # NT_GO_BUILDID's type (4) and name ("Go")
_HEAD = 64 * 1024


def read_go_buildinfo(reader: IO[bytes]) -> bytes | None:
    """The build info blob of a Go ELF binary (from its magic on), or None for other files.

    Go's linker puts its build-id note (`.note.go.buildid`, name "Go", type 4) right after the
    ELF headers, so the first 64 KiB tell a Go binary from the hundreds of C programs of a
    distribution without reading them whole. The `.go.buildinfo` section is then found by its
    16-byte-aligned magic while streaming, so no section table (at the end) is needed.
    """
    head = reader.read(_HEAD)
    if not head.startswith(b"\x7fELF") or _GO_NOTE not in head:
        return None
    offset = 0
    tail = b""
    chunk = head
    while chunk:
        window = tail + chunk
        base = offset - len(tail)  # file offset of window[0]
        start = 0
        while (found := window.find(GO_BUILDINFO_MAGIC, start)) >= 0:
            if (base + found) % 16 == 0:
                blob = window[found:]
                if len(blob) < _GO_BLOB:
                    blob += reader.read(_GO_BLOB - len(blob))
                return blob[:_GO_BLOB]
            start = found + 1
        offset += len(chunk)
        tail = window[-(len(GO_BUILDINFO_MAGIC) - 1) :]
        chunk = reader.read(_CHUNK)
    return None
