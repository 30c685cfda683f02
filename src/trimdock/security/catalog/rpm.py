"""rpm: the sqlite database of current distributions (`var/lib/rpm/rpmdb.sqlite`, or
`usr/lib/sysimage/rpm/`), read with the standard library's sqlite3.

Each row of its `Packages` table is one package's header blob, the format rpm writes
(rpm's `headerExport`, documented in rpm's doc/manual/format.md "Header structure"): two
big-endian 32-bit counts, the number of index entries `il` and the size of the data store `dl`;
then `il` entries of four big-endian 32-bit fields (tag, type, offset into the store, count);
then the store. Strings are NUL-terminated; INT32 values big-endian. The old Berkeley DB
`Packages` file is not read (a note says so).
"""

from __future__ import annotations

import sqlite3
import struct

from trimdock.security.catalog.records import Record

TAG_NAME = 1000
TAG_VERSION = 1001
TAG_RELEASE = 1002
TAG_EPOCH = 1003
TAG_LICENSE = 1014
TAG_ARCH = 1022
TAG_SOURCERPM = 1044
_INT32 = 4
_STRING = 6
_STRING_ARRAY = 8
_I18NSTRING = 9
_WANTED = frozenset({TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_EPOCH, TAG_LICENSE, TAG_ARCH})
_WANTED |= {TAG_SOURCERPM}
# A header bigger than this is damaged (rpm itself caps a header's data at 256 MiB, its index
# at 64 Ki entries).
_MAX_ENTRIES = 65536


def parse_header(blob: bytes) -> dict[int, str | int]:
    """The wanted tags of one header blob (strings and the epoch); {} for a damaged blob."""
    if len(blob) < 8:
        return {}
    il, dl = struct.unpack_from(">II", blob, 0)
    store = 8 + 16 * il
    if il > _MAX_ENTRIES or store + dl > len(blob):
        return {}
    values: dict[int, str | int] = {}
    for index in range(il):
        tag, kind, offset, count = struct.unpack_from(">IIII", blob, 8 + 16 * index)
        if tag not in _WANTED or offset >= dl or count == 0:
            continue
        start = store + offset
        if kind == _INT32:
            if offset + 4 <= dl:
                values[tag] = struct.unpack_from(">I", blob, start)[0]
        elif kind in (_STRING, _STRING_ARRAY, _I18NSTRING):
            end = blob.find(b"\0", start, store + dl)
            if end >= 0:
                # Arrays and translations: the first string (the untranslated one).
                values[tag] = blob[start:end].decode("utf-8", "replace")
    return values


def record_of(values: dict[int, str | int]) -> Record | None:
    """The package a header describes: version `[epoch:]version-release` (how rpm and OSV's
    RPM ecosystems write it); the source package from the source rpm's file name."""
    name, version = values.get(TAG_NAME), values.get(TAG_VERSION)
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return None
    release = values.get(TAG_RELEASE)
    full = f"{version}-{release}" if isinstance(release, str) and release else version
    epoch = values.get(TAG_EPOCH)
    if isinstance(epoch, int) and epoch:
        full = f"{epoch}:{full}"
    source = values.get(TAG_SOURCERPM)
    source_name = name
    if isinstance(source, str) and source.endswith(".src.rpm"):
        # NAME-VERSION-RELEASE.src.rpm: the name is what precedes the last two dashes.
        parts = source.removesuffix(".src.rpm").rsplit("-", 2)
        if len(parts) == 3 and parts[0]:
            source_name = parts[0]
    licence = values.get(TAG_LICENSE)
    arch = values.get(TAG_ARCH)
    return Record(
        name=name,
        version=full,
        licence=licence if isinstance(licence, str) else "",
        source_name=source_name,
        source_version=full,
        arch=arch if isinstance(arch, str) else "",
    )


def parse_rpmdb_sqlite(data: bytes) -> list[Record]:
    """Packages of an `rpmdb.sqlite` file's bytes; [] when it is not a readable database."""
    if not data.startswith(b"SQLite format 3\0") or len(data) < 100:
        return []
    # rpm keeps the database in WAL mode; an in-memory copy cannot use a WAL (and none ships
    # in an image's bytes once rpm closed it), so the header's read/write versions (bytes
    # 18 and 19) are set back to 1, the rollback journal, before deserializing.
    image = bytearray(data)
    image[18] = image[19] = 1
    connection = sqlite3.connect(":memory:")
    try:
        connection.deserialize(bytes(image))
        rows = connection.execute("SELECT blob FROM Packages").fetchall()
    except sqlite3.Error:
        return []
    finally:
        connection.close()
    records: list[Record] = []
    for (blob,) in rows:
        if isinstance(blob, bytes):
            record = record_of(parse_header(blob))
            if record is not None:
                records.append(record)
    return records
