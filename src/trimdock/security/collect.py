"""The exact final filesystem of an image, plus the bytes of the few files the analyses need
(package databases, metadata files, Go build info, secret-bearing files), selected by path
from the headers in the same pass.

Every layer's headers go through the same `Overlay` the `layers` command uses, so "is this file
still visible at the end, or did a later layer delete it" has one answer everywhere. A selected
file's bytes are read while its entry is current (one pass over each layer: no second reading
of the headers), and a reader is made only for selected files. Each `Selector` declares a cheap
gate (exact names, extensions, folders, executables) so that the common entry, an
uninteresting file, costs one split of its path and a few set look-ups.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO

from trimdock.image.kept import BodyRequest, KeptBodies, KeptReads, code_key
from trimdock.image.model import EntryType, Image, LayerEntry
from trimdock.layers.overlay import Overlay


class Kind(StrEnum):
    """Why a file's bytes are read."""

    OS_RELEASE = "os-release"
    DPKG_STATUS = "dpkg-status"
    DPKG_STATUS_D = "dpkg-status.d"
    DPKG_COPYRIGHT = "dpkg-copyright"
    APK_INSTALLED = "apk-installed"
    RPM_SQLITE = "rpm-sqlite"
    RPM_BDB = "rpm-bdb"
    PYTHON_METADATA = "python-metadata"
    NPM_PACKAGE = "npm-package"
    NPM_LOCK = "npm-lock"
    JAVA_ARCHIVE = "java-archive"
    GEMSPEC = "gemspec"
    GO_BINARY = "go-binary"
    SECRET_CANDIDATE = "secret-candidate"


# How much of a selected file is read: package databases can be a few MiB, metadata files are
# read for their headers only (a METADATA file may carry a whole README after them). A jar is
# read whole (its zip directory is at the end) up to JAR_LIMIT; a larger one is left unread.
JAR_LIMIT = 64 * 1024 * 1024
_LIMITS = {
    Kind.OS_RELEASE: 64 * 1024,
    Kind.DPKG_STATUS: 64 * 1024 * 1024,
    Kind.DPKG_STATUS_D: 1024 * 1024,
    Kind.DPKG_COPYRIGHT: 256 * 1024,
    Kind.APK_INSTALLED: 64 * 1024 * 1024,
    Kind.RPM_SQLITE: 256 * 1024 * 1024,
    Kind.RPM_BDB: 0,  # not read: only its presence is reported
    Kind.PYTHON_METADATA: 256 * 1024,
    Kind.NPM_PACKAGE: 1024 * 1024,
    Kind.NPM_LOCK: 64 * 1024 * 1024,
    Kind.JAVA_ARCHIVE: JAR_LIMIT,
    Kind.GEMSPEC: 256 * 1024,
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
    size: int = 0  # the file's size in the layer (`data` may be shorter, or empty)


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


Pick = Callable[[LayerEntry], Kind | None]


@dataclass(frozen=True)
class Selector:
    """Which regular files an analysis reads: `pick` decides from the entry alone, and runs only
    for files through the gate: a file name in `names`, an extension (from the last dot, dot
    included) in `extensions`, a name starting with one of `name_prefixes`, a parent folder in
    `folders`, or any executable when `executables`. The gate must let through every file
    `pick` would take (tests/security/test_catalogers.py checks this on tables)."""

    pick: Pick
    names: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()
    name_prefixes: tuple[str, ...] = ()
    folders: frozenset[str] = frozenset()
    executables: bool = False

    def gate(self, entry: LayerEntry) -> bool:
        return _Gate((self,)).admits(entry)


class _Gate:
    """The union of several selectors' gates, tested once per file entry."""

    def __init__(self, selectors: Iterable[Selector]) -> None:
        chosen = tuple(selectors)
        self.selectors = chosen
        self.names = frozenset().union(*(s.names for s in chosen))
        self.extensions = frozenset().union(*(s.extensions for s in chosen))
        self.prefixes = tuple(p for s in chosen for p in s.name_prefixes)
        self.folders = frozenset().union(*(s.folders for s in chosen))
        self.executables = any(s.executables for s in chosen)

    def admits(self, entry: LayerEntry) -> bool:
        parent, _, name = entry.path.rpartition("/")
        if name in self.names or parent in self.folders:
            return True
        dot = name.rfind(".")
        if dot >= 0 and name[dot:] in self.extensions:
            return True
        if self.executables and entry.mode & 0o111:
            return True
        return bool(self.prefixes) and name.startswith(self.prefixes)

    def picker(self) -> Pick:
        """`admits`, then the selectors' picks, as one function (it runs for every regular
        file of every layer: the gate's sets are bound as locals, no method call in between)."""
        names, folders, extensions = self.names, self.folders, self.extensions
        executables, prefixes = self.executables, self.prefixes
        picks = tuple(s.pick for s in self.selectors)

        def pick(entry: LayerEntry) -> Kind | None:
            parent, _, name = entry.path.rpartition("/")
            if name not in names and parent not in folders:
                dot = name.rfind(".")
                if (
                    (dot < 0 or name[dot:] not in extensions)
                    and not (executables and entry.mode & 0o111)
                    and not (prefixes and name.startswith(prefixes))
                ):
                    return None
            for choose in picks:
                kind = choose(entry)
                if kind is not None:
                    return kind
            return None

        return pick


_INVENTORY_NAMES = frozenset(
    {
        "os-release",
        "status",
        "installed",
        "METADATA",
        "PKG-INFO",
        "package.json",
        "package-lock.json",
        "copyright",
        "rpmdb.sqlite",
        "Packages",
    }
)
_JAVA_EXTENSIONS = (".jar", ".war", ".ear")


def select_inventory(entry: LayerEntry) -> Kind | None:
    """The kind of a file the inventory reads, from its path and mode alone (pure)."""
    if entry.type is not EntryType.FILE:
        return None
    path = entry.path
    parent, _, name = path.rpartition("/")
    if (
        name in _INVENTORY_NAMES
        or name.endswith((".egg-info", ".gemspec"))
        or parent == "var/lib/dpkg/status.d"
    ):
        return _inventory_kind(path, parent, name)
    if name.endswith(_JAVA_EXTENSIONS):
        return Kind.JAVA_ARCHIVE
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
    if name == "copyright" and parent.startswith("usr/share/doc/") and parent.count("/") == 3:
        return Kind.DPKG_COPYRIGHT
    if path == "lib/apk/db/installed":
        return Kind.APK_INSTALLED
    if path in ("var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"):
        return Kind.RPM_SQLITE
    if path in ("var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages"):
        return Kind.RPM_BDB
    if (name == "METADATA" and parent.endswith(".dist-info")) or (
        name == "PKG-INFO" and parent.endswith(".egg-info")
    ):
        return Kind.PYTHON_METADATA
    if name.endswith(".egg-info") and "-packages/" in path:
        return Kind.PYTHON_METADATA
    if name.endswith(".gemspec") and parent.rpartition("/")[2] == "specifications":
        return Kind.GEMSPEC
    if name == "package.json" and _is_npm_package_dir(parent):
        return Kind.NPM_PACKAGE
    if name == "package-lock.json" and "node_modules/" not in path:
        # Lock files of applications; `node_modules/.package-lock.json` (npm's hidden lock)
        # repeats the installed packages' own package.json files, which are read already.
        return Kind.NPM_LOCK
    return None


INVENTORY = Selector(
    pick=select_inventory,
    names=_INVENTORY_NAMES,
    extensions=frozenset({".egg-info", ".gemspec", *_JAVA_EXTENSIONS}),
    folders=frozenset({"var/lib/dpkg/status.d"}),
    executables=True,
)


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


def body_request(selectors: tuple[Selector, ...] = (INVENTORY,)) -> BodyRequest[Kind]:
    """What `collect(image, selectors)` will read, for `open_image(keep=...)`: the same pick
    and the same bounded reads, so a source that streams the image once (the engine's save
    path) keeps exactly the bytes `collect` then takes from it."""
    return BodyRequest(pick=_Gate(selectors).picker(), read=_read_body, key=_key(selectors))


def _key(selectors: tuple[Selector, ...]) -> str:
    """The request's id for sources that cache its reads per layer (`code_key`: the code of
    the picks and of the reading, and the gates and limits)."""
    gates = [
        (
            sorted(s.names),
            sorted(s.extensions),
            s.name_prefixes,
            sorted(s.folders),
            s.executables,
            s.pick.__qualname__,
        )
        for s in selectors
    ]
    limits = sorted((kind.value, limit) for kind, limit in _LIMITS.items())
    return code_key((*(s.pick for s in selectors), _read), (gates, limits, _GO_BLOB))


def _read_body(kind: Kind, entry: LayerEntry, reader: IO[bytes]) -> bytes | None:
    return _read(reader, kind, entry.size)


def collect(image: Image, selectors: tuple[Selector, ...] = (INVENTORY,)) -> Collected:
    """Apply every layer's headers to the overlay, reading the selected files' bytes in the
    same pass.

    Sources whose layers can hand over a selected file's bytes while iterating their headers
    (`entries_reading`: archives, layouts) are read once; so are the engine's layer store's
    (`open()` yields each header with a reader that opens the file only when read). Others
    (the engine's save path, registries) give their headers first, from a cache or a first
    read; the selected files' bytes then come from what that read kept (`KeptReads`: the save
    path opened with `keep=body_request(selectors)`), and only a layer with a selected file
    not kept is opened, since opening one means saving or downloading it again.
    """
    result = Collected(overlay=Overlay(source=image.reference))
    pick = _Gate(selectors).picker()
    for layer in image.layers:
        # Queue every layer's digest check at once (sources that hash on a worker), as
        # `layers` does, so hashing overlaps the whole pass instead of waiting per layer.
        prefetch = getattr(layer.content, "prefetch_digest", None)
        if callable(prefetch):
            prefetch()
    later: list[tuple[int, dict[int, tuple[LayerEntry, Kind]]]] = []
    for layer in image.layers:
        index = layer.index
        content = layer.content
        reading = getattr(content, "entries_reading", None)
        if callable(reading):

            def take(entry: LayerEntry, kind: Kind, reader: IO[bytes], index: int = index) -> None:
                _keep(result, index, entry, kind, reader)

            result.overlay.apply(reading(pick, take))
        elif _lazy_bodies(image, content):
            with content.open() as stream:
                result.overlay.apply(_read_picked(stream, pick, result, index))
        else:
            picks: dict[int, tuple[LayerEntry, Kind]] = {}
            result.overlay.apply(_pick(content.entries(), pick, picks))
            kept = content.kept_reads() if isinstance(content, KeptReads) else {}
            if picks.keys() <= kept.keys():
                for position, (entry, kind) in picks.items():
                    _add(result, index, entry, kind, kept[position])
            else:
                later.append((index, picks))
        result.layer_count += 1
    for index, picks in later:
        content = image.layers[index].content
        kept = content.kept_reads() if isinstance(content, KeptReads) else {}
        with content.open() as stream:
            # By position: both copies of a path a layer holds twice are read, and the kept
            # ones are not read again.
            for position, (entry, reader) in enumerate(stream):
                chosen = picks.get(position)
                if chosen is None or reader is None:
                    continue
                if position in kept:
                    _add(result, index, entry, chosen[1], kept[position])
                else:
                    _keep(result, index, entry, chosen[1], reader)
    if later:
        # Layer order, as a single pass gives them (the sort is stable within a layer).
        result.hits.sort(key=lambda hit: hit.layer)
    return result


def _lazy_bodies(image: Image, content: object) -> bool:
    """Whether the layer's `open()` costs what `entries()` costs: the engine's layer store,
    whose headers come from the engine's records and whose readers open a file of the layer
    folder on their first read. (The engine's save path also says "docker-daemon", but it
    keeps bodies (`KeptBodies`) because its `open()` saves the whole image once more.)"""
    return image.source == "docker-daemon" and not isinstance(content, KeptBodies)


def _read_picked(
    stream: Iterator[tuple[LayerEntry, IO[bytes] | None]],
    pick: Pick,
    result: Collected,
    index: int,
) -> Iterator[LayerEntry]:
    for entry, reader in stream:
        if reader is not None and entry.type is EntryType.FILE:
            kind = pick(entry)
            if kind is not None:
                _keep(result, index, entry, kind, reader)
        yield entry


def _keep(result: Collected, layer: int, entry: LayerEntry, kind: Kind, reader: IO[bytes]) -> None:
    _add(result, layer, entry, kind, _read(reader, kind, entry.size))


def _add(result: Collected, layer: int, entry: LayerEntry, kind: Kind, data: bytes | None) -> None:
    if data is not None:
        result.hits.append(FileHit(layer, entry.path, kind, data, entry.mode, entry.size))


def _pick(
    entries: Iterator[LayerEntry], pick: Pick, picks: dict[int, tuple[LayerEntry, Kind]]
) -> Iterator[LayerEntry]:
    for position, entry in enumerate(entries):
        if entry.type is EntryType.FILE:
            kind = pick(entry)
            if kind is not None:
                picks[position] = (entry, kind)
        yield entry


def _read(reader: IO[bytes], kind: Kind, size: int) -> bytes | None:
    if kind is Kind.GO_BINARY:
        return read_go_buildinfo(reader)
    limit = _LIMITS[kind]
    if kind is Kind.JAVA_ARCHIVE and size > limit:
        return b""  # too large to open as a zip within the bound: reported, not read
    return reader.read(limit) if limit else b""


_GO_NOTE = b"\x04\x00\x00\x00Go\x00\x00"  # NT_GO_BUILDID's type (4) and name ("Go")
_HEAD = 64 * 1024
_FIRST = 4096  # ELF header, program headers and, in practice, every note segment
_PT_NOTE = 4


def _notes_end(head: bytes) -> int:
    """Where the last PT_NOTE segment of an ELF file ends (0 without one or when the program
    headers are not in `head`)."""
    if len(head) < 64:
        return 0
    wide = head[4] == 2  # ELFCLASS64
    order = "<" if head[5] == 1 else ">"
    if wide:
        (phoff,) = struct.unpack_from(order + "Q", head, 32)
        entsize, count = struct.unpack_from(order + "HH", head, 54)
    else:
        (phoff,) = struct.unpack_from(order + "I", head, 28)
        entsize, count = struct.unpack_from(order + "HH", head, 42)
    end = 0
    for index in range(min(count, 64)):
        at = phoff + index * entsize
        if at + (56 if wide else 32) > len(head):
            return 0
        if struct.unpack_from(order + "I", head, at)[0] != _PT_NOTE:
            continue
        if wide:
            (offset,) = struct.unpack_from(order + "Q", head, at + 8)
            (size,) = struct.unpack_from(order + "Q", head, at + 32)
        else:
            (offset,) = struct.unpack_from(order + "I", head, at + 4)
            (size,) = struct.unpack_from(order + "I", head, at + 16)
        end = max(end, offset + size)
    return end


def read_go_buildinfo(reader: IO[bytes]) -> bytes | None:
    """The build info blob of a Go ELF binary (from its magic on), or None for other files.

    Go's linker puts its build-id note (`.note.go.buildid`, name "Go", type 4) right after the
    ELF headers, so the first page (or, when a note segment lies further, up to 64 KiB) tells
    a Go binary from the hundreds of C programs of a distribution without reading them whole.
    The `.go.buildinfo` section is then found by its 16-byte-aligned magic while streaming, so
    no section table (at the end) is needed.
    """
    head = reader.read(_FIRST)
    if not head.startswith(b"\x7fELF"):
        return None
    if _GO_NOTE not in head:
        # The note segments are listed in the program headers: read further only when one
        # lies past the first page (still within the 64 KiB the note is looked for in).
        end = _notes_end(head)
        if end <= len(head):
            return None
        head += reader.read(min(end, _HEAD) - len(head))
        if _GO_NOTE not in head:
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
