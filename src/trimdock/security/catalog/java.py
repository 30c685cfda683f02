"""Java archives (`.jar`, `.war`, `.ear`): `META-INF/maven/**/pom.properties` (groupId,
artifactId, version: what Maven advisories key on) and, without it, `META-INF/MANIFEST.MF`
(Implementation-/Bundle- fields); archives nested one level deep (Spring Boot's
`BOOT-INF/lib/*.jar`, a war's `WEB-INF/lib/*.jar`) are read too.

Bounds: a nested archive above NESTED_LIMIT bytes, a manifest or properties file above
MEMBER_LIMIT, and more than MAX_MEMBERS metadata files per archive are skipped (a zip bomb or a
fat archive must not cost unbounded memory).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from trimdock.security.catalog.records import Record

NESTED_LIMIT = 32 * 1024 * 1024
MEMBER_LIMIT = 64 * 1024
MAX_MEMBERS = 2000
_ARCHIVES = (".jar", ".war", ".ear")


def parse_java_archive(data: bytes) -> list[Record]:
    """The Maven artifacts of an archive's bytes and of the archives nested in it."""
    return list(_archive(data, nested=True))


def _archive(data: bytes, *, nested: bool) -> Iterator[Record]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    poms: list[Record] = []
    manifest: Record | None = None
    inner: list[zipfile.ZipInfo] = []
    for info in members[: MAX_MEMBERS * 10]:
        name = info.filename
        if name.endswith("/pom.properties") and name.startswith("META-INF/maven/"):
            record = _pom_properties(_member(archive, info))
            if record is not None:
                poms.append(record)
        elif name.upper() == "META-INF/MANIFEST.MF":
            manifest = _manifest(_member(archive, info))
        elif nested and name.endswith(_ARCHIVES) and info.file_size <= NESTED_LIMIT:
            inner.append(info)
    # A shaded archive carries the pom.properties of everything it bundled: each is a
    # component. The manifest names the archive itself only when no pom.properties does.
    yield from poms
    if not poms and manifest is not None:
        yield manifest
    for info in inner:
        yield from _archive(_member(archive, info, NESTED_LIMIT), nested=False)


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int = MEMBER_LIMIT) -> bytes:
    if info.file_size > limit:
        return b""
    try:
        with archive.open(info) as member:
            return member.read(limit)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return b""


def _pom_properties(data: bytes) -> Record | None:
    values: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    group, artifact, version = (values.get(k, "") for k in ("groupId", "artifactId", "version"))
    if not group or not artifact or not version:
        return None
    return Record(name=f"{group}:{artifact}", version=version)


def _manifest(data: bytes) -> Record | None:
    """From a manifest: a Maven-style name when the vendor id or bundle name gives a group."""
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").replace("\r\n", "\n").split("\n"):
        # Continuation lines (72-byte wrapping) start with one space.
        if line.startswith(" ") and fields:
            last = next(reversed(fields))
            fields[last] += line[1:]
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    version = fields.get("Implementation-Version") or fields.get("Bundle-Version", "")
    title = fields.get("Implementation-Title") or fields.get("Bundle-Name", "")
    group = fields.get("Implementation-Vendor-Id", "")
    symbolic = fields.get("Bundle-SymbolicName", "").split(";", 1)[0].strip()
    if not version:
        return None
    if group and title:
        name = f"{group}:{title}"
    elif symbolic:
        name = symbolic
    elif title:
        name = title
    else:
        return None
    return Record(name=name, version=version, licence=fields.get("Bundle-License", ""))
