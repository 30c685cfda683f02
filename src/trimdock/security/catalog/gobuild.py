"""Go: the build info a Go 1.18+ toolchain embeds in every binary (`go version -m` shows it).

Layout (cmd/go/internal/version and debug/buildinfo): a 32-byte header starting with the magic
`\\xff Go buildinf:`, the pointer size at byte 14, flags at byte 15; with flag 2 (inline
strings, every Go >= 1.18) the Go version and the module info follow at byte 32, each as a
uvarint length and bytes. The module info is wrapped in two 16-byte sentinels and holds
tab-separated lines: `path`, `mod`, `dep`, `=>` (replacement of the line above), `build`.
Older binaries (pointer-based header, Go < 1.18) are not read.
"""

from __future__ import annotations

from dataclasses import dataclass

from trimdock.security.catalog.records import Record

MAGIC = b"\xff Go buildinf:"
_INLINE_STRINGS = 0x2


@dataclass(frozen=True)
class GoBuildInfo:
    go_version: str
    path: str
    main: Record | None
    deps: tuple[Record, ...]


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    raise ValueError("truncated uvarint")


def _string(data: bytes, pos: int) -> tuple[str, int]:
    length, pos = _uvarint(data, pos)
    if pos + length > len(data):
        raise ValueError("truncated string")
    return data[pos : pos + length].decode("utf-8", "replace"), pos + length


def parse_buildinfo(blob: bytes) -> GoBuildInfo | None:
    """Build info from a blob starting at the magic; None for unsupported or damaged blobs."""
    if len(blob) < 32 or not blob.startswith(MAGIC) or not blob[15] & _INLINE_STRINGS:
        return None
    try:
        go_version, pos = _string(blob, 32)
        modinfo, _ = _string(blob, pos)
    except ValueError:
        return None
    if len(modinfo) >= 33 and modinfo[-17] == "\n":
        modinfo = modinfo[16:-16]
    path = ""
    main: Record | None = None
    deps: list[Record] = []
    for line in modinfo.splitlines():
        parts = line.split("\t")
        tag = parts[0]
        if tag == "path" and len(parts) >= 2:
            path = parts[1]
        elif tag == "mod" and len(parts) >= 3:
            main = Record(name=parts[1], version=parts[2])
        elif tag == "dep" and len(parts) >= 3:
            deps.append(Record(name=parts[1], version=parts[2]))
        elif tag == "=>" and len(parts) >= 3 and deps:
            # The replacement is what was compiled in: its module and version are the ones
            # advisories must be matched against.
            deps[-1] = Record(name=parts[1], version=parts[2])
    return GoBuildInfo(go_version=go_version, path=path, main=main, deps=tuple(deps))


def go_records(info: GoBuildInfo) -> list[Record]:
    """The modules of a binary as package records, with the toolchain as `stdlib` (OSV's name)."""
    records: list[Record] = []
    if info.go_version.startswith("go"):
        records.append(Record(name="stdlib", version=info.go_version.removeprefix("go")))
    if info.main is not None and info.main.version not in ("", "(devel)"):
        records.append(info.main)
    records.extend(info.deps)
    return records


def parse_go_binary(blob: bytes) -> list[Record]:
    """The records of a build info blob (the cataloger's entry point)."""
    info = parse_buildinfo(blob)
    return [] if info is None else go_records(info)
