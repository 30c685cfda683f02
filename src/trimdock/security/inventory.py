"""From the collected files to the inventory: which packages, added by which layer, deleted or not.

One rule for every cataloger: the files are grouped by path (a package database, or one
package's metadata file). A package (name, version) found in any layer's copy of the file was
added by the first layer whose copy lists it; it is deleted when the copy in the final
filesystem (if any) no longer lists it, yet its bytes still ship in the earlier layer.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections import defaultdict
from collections.abc import Callable, Sequence

from packageurl import PackageURL

from trimdock.image.model import Image
from trimdock.layers.overlay import K_SYMLINK
from trimdock.security.catalog.copyright import dep5_licences
from trimdock.security.catalog.python import canonical_name
from trimdock.security.catalog.records import Record
from trimdock.security.collect import Collected, FileHit, Kind
from trimdock.security.model import Ecosystem, Inventory, OsInfo, Package
from trimdock.security.osrelease import os_info

Parser = Callable[[bytes], list[Record]]

# Kind -> (cataloger name, ecosystem, "module.function" under trimdock.security.catalog). The
# parsers are imported when a file of their kind was found: most images need two or three of
# them, and some bring heavy imports (sqlite3, zipfile, the email parser).
_CATALOGERS: dict[Kind, tuple[str, Ecosystem, str]] = {
    Kind.DPKG_STATUS: ("dpkg", Ecosystem.DEBIAN, "dpkg.parse_dpkg_status"),
    Kind.DPKG_STATUS_D: ("dpkg", Ecosystem.DEBIAN, "dpkg.parse_dpkg_status"),
    Kind.APK_INSTALLED: ("apk", Ecosystem.ALPINE, "apk.parse_apk_installed"),
    Kind.PYTHON_METADATA: ("python", Ecosystem.PYPI, "python.parse_python_metadata"),
    Kind.NPM_PACKAGE: ("npm", Ecosystem.NPM, "npm.parse_package_json"),
    Kind.GO_BINARY: ("go", Ecosystem.GO, "gobuild.parse_go_binary"),
    Kind.RPM_SQLITE: ("rpm", Ecosystem.RPM, "rpm.parse_rpmdb_sqlite"),
    Kind.NPM_LOCK: ("npm-lock", Ecosystem.NPM, "npm.parse_package_lock"),
    Kind.JAVA_ARCHIVE: ("java", Ecosystem.MAVEN, "java.parse_java_archive"),
    Kind.GEMSPEC: ("gem", Ecosystem.RUBYGEMS, "gems.parse_gemspec"),
}


def parser_of(kind: Kind) -> Parser:
    module, _, function = _CATALOGERS[kind][2].rpartition(".")
    parse: Parser = getattr(
        importlib.import_module(f"trimdock.security.catalog.{module}"), function
    )
    return parse


def build_inventory(image: Image, collected: Collected) -> Inventory:
    """The inventory of an image from one collection pass (pure apart from the model)."""
    os = find_os(collected)
    packages: list[Package] = []
    by_path: dict[tuple[Kind, str], list[FileHit]] = defaultdict(list)
    for hit in collected.hits:
        if hit.kind in _CATALOGERS:
            by_path[(hit.kind, hit.path)].append(hit)
    for (kind, path), hits in sorted(by_path.items()):
        cataloger, ecosystem, _ = _CATALOGERS[kind]
        parse = parser_of(kind)
        packages.extend(
            _attribute(image, collected, hits, cataloger, ecosystem, parse, path=path, os=os)
        )
    packages = dpkg_licences(packages, collected)
    packages.sort(key=lambda p: (p.ecosystem.value, p.name.lower(), p.version, p.path))
    return Inventory(packages=tuple(packages), os=os, notes=tuple(unread_notes(collected)))


def unread_notes(collected: Collected) -> list[str]:
    """Package data the inventory saw but did not read (each path once)."""
    notes: dict[str, None] = {}
    for hit in collected.hits:
        if hit.kind is Kind.RPM_BDB:
            notes.setdefault(
                f"{hit.path} (layer {hit.layer}): an rpm Berkeley DB database is not read; "
                "its packages are not in the inventory",
                None,
            )
        elif hit.kind is Kind.JAVA_ARCHIVE and hit.size > len(hit.data) == 0:
            notes.setdefault(
                f"{hit.path} (layer {hit.layer}): a Java archive of {hit.size} bytes is above "
                "the read bound; its artifacts are not in the inventory",
                None,
            )
    return list(notes)


def dpkg_licences(packages: list[Package], collected: Collected) -> list[Package]:
    """Debian packages get the licences of their `usr/share/doc/NAME/copyright` file when it is
    machine-readable (DEP-5), from the copy in the package's layer or the latest one before;
    only packages in the inventory are looked up, other packages' files are never parsed.

    A doc folder that is a symbolic link (`libncursesw6 -> libtinfo6`) points to the folder of
    a package built from the same source, whose copyright file (a source package's
    `debian/copyright`) is the one that applies: the overlay keeps no link targets, so that
    package is found by its source name.
    """
    copyrights: dict[str, list[FileHit]] = defaultdict(list)
    for hit in collected.of(Kind.DPKG_COPYRIGHT):
        copyrights[hit.path.split("/")[3]].append(hit)
    if not copyrights:
        return packages
    by_source: dict[str, str] = {}
    for package in sorted(packages, key=lambda p: p.name):
        if package.ecosystem is Ecosystem.DEBIAN and package.name in copyrights:
            by_source.setdefault(package.source_name or package.name, package.name)
    cache: dict[tuple[str, int], str] = {}
    result: list[Package] = []
    for package in packages:
        if package.ecosystem is Ecosystem.DEBIAN and not package.licence:
            folder = package.name
            if folder not in copyrights and _is_symlink(collected, f"usr/share/doc/{folder}"):
                folder = by_source.get(package.source_name or package.name, folder)
            hits = copyrights.get(folder)
            if hits:
                usable = [h for h in hits if h.layer <= package.layer] or hits
                chosen = max(usable, key=lambda h: h.layer)
                key = (chosen.path, chosen.layer)
                if key not in cache:
                    cache[key] = dep5_licences(chosen.data)
                if cache[key]:
                    package = dataclasses.replace(package, licence=cache[key])
        result.append(package)
    return result


def _is_symlink(collected: Collected, path: str) -> bool:
    node = collected.overlay.visible(path)
    return node is not None and node.e_kind == K_SYMLINK


def _attribute(
    image: Image,
    collected: Collected,
    hits: Sequence[FileHit],
    cataloger: str,
    ecosystem: Ecosystem,
    parse: Callable[[bytes], list[Record]],
    *,
    path: str,
    os: OsInfo | None,
) -> list[Package]:
    first_seen: dict[tuple[str, str, str], tuple[int, Record]] = {}
    final: set[tuple[str, str, str]] = set()
    for hit in sorted(hits, key=lambda h: h.layer):
        records = parse(hit.data)
        visible = collected.visible(hit)
        for record in records:
            key = (record.name, record.version, record.arch)
            first_seen.setdefault(key, (hit.layer, record))
            if visible:
                final.add(key)
    result: list[Package] = []
    for key, (layer, record) in first_seen.items():
        result.append(
            Package(
                name=record.name,
                version=record.version,
                ecosystem=ecosystem,
                purl=purl(ecosystem, record, os),
                path=path,
                layer=layer,
                instruction=image.layers[layer].instruction if layer < len(image.layers) else "",
                licence=record.licence,
                deleted=key not in final,
                source_name=record.source_name,
                source_version=record.source_version,
                cataloger=cataloger,
            )
        )
    return result


def find_os(collected: Collected) -> OsInfo | None:
    """The distribution from the visible `etc/os-release`, else `usr/lib/os-release`."""
    hits = [h for h in collected.of(Kind.OS_RELEASE) if collected.visible(h)]
    hits.sort(key=lambda h: h.path != "etc/os-release")
    for hit in hits:
        info = os_info(hit.data, layer=hit.layer, path=hit.path)
        if info is not None:
            return info
    return None


def purl(ecosystem: Ecosystem, record: Record, os: OsInfo | None) -> str:
    """The package URL (purl spec types deb, apk, rpm, pypi, maven, gem, npm, golang)."""
    qualifiers: dict[str, str] = {}
    if record.arch:
        qualifiers["arch"] = record.arch
    if ecosystem is Ecosystem.DEBIAN:
        distro = os.id if os is not None and os.id else "debian"
        if os is not None and os.version_id:
            qualifiers["distro"] = f"{distro}-{os.version_id}"
        return str(
            PackageURL("deb", distro, record.name, record.version, qualifiers or None).to_string()
        )
    if ecosystem is Ecosystem.ALPINE:
        if os is not None and os.version_id:
            qualifiers["distro"] = f"alpine-{os.version_id}"
        return str(
            PackageURL("apk", "alpine", record.name, record.version, qualifiers or None).to_string()
        )
    if ecosystem is Ecosystem.PYPI:
        name = canonical_name(record.name)
        return str(PackageURL("pypi", None, name, record.version).to_string())
    if ecosystem is Ecosystem.RPM:
        vendor = os.id if os is not None and os.id else None
        if os is not None and os.version_id:
            qualifiers["distro"] = f"{os.id}-{os.version_id}"
        return str(
            PackageURL("rpm", vendor, record.name, record.version, qualifiers or None).to_string()
        )
    if ecosystem is Ecosystem.MAVEN:
        group, _, artifact = record.name.rpartition(":")
        return str(PackageURL("maven", group or None, artifact, record.version).to_string())
    if ecosystem is Ecosystem.RUBYGEMS:
        return str(PackageURL("gem", None, record.name, record.version).to_string())
    namespace, _, name = record.name.rpartition("/")
    kind = "npm" if ecosystem is Ecosystem.NPM else "golang"
    return str(PackageURL(kind, namespace or None, name, record.version).to_string())
