"""The inventory model: packages found in an image and the operating system it is built on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Ecosystem(StrEnum):
    """Package ecosystems, named as OSV names them (so a package's ecosystem is its key there)."""

    DEBIAN = "Debian"
    ALPINE = "Alpine"
    PYPI = "PyPI"
    NPM = "npm"
    GO = "Go"
    MAVEN = "Maven"
    RUBYGEMS = "RubyGems"
    # OSV keys rpm packages by distribution ("Red Hat", "Rocky Linux", "openSUSE", ...): the
    # matcher finds the records of the image's distribution (trimdock.security.vuln.rpmdistro).
    RPM = "RPM"


@dataclass(frozen=True)
class Package:
    """One installed package.

    `layer` is the layer whose copy of the package's record is the one found (for package
    databases: the first layer whose database lists this name and version); `deleted` says a
    later layer removed the record, so the package is not in the final filesystem, but its bytes
    still ship in that layer. `source_name`/`source_version` are the Debian source package (the
    key Debian advisories use); `path` is the file the record was read from.
    """

    name: str
    version: str
    ecosystem: Ecosystem
    purl: str
    path: str
    layer: int
    instruction: str = ""
    licence: str = ""
    deleted: bool = False
    source_name: str = ""
    source_version: str = ""
    cataloger: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.ecosystem.value, self.name, self.version, self.path)


@dataclass(frozen=True)
class EolEntry:
    """End of life of one distribution release, as published by the distribution, and where
    trimdock's copy of that date comes from (`source`: a sentence a finding can quote)."""

    distribution: str
    release: str
    eol: dt.date
    source: str = ""


@dataclass(frozen=True)
class OsInfo:
    """What `etc/os-release` (or `usr/lib/os-release`) says, plus the end of life we know."""

    id: str
    version_id: str
    pretty_name: str
    codename: str = ""
    layer: int = 0
    path: str = "etc/os-release"
    eol: dt.date | None = None
    eol_source: str = ""  # where the date comes from (trimdock.security.osrelease)
    eol_confirmed: bool = False  # the date was checked against a file here (tests)

    def is_eol(self, today: dt.date) -> bool:
        return self.eol is not None and self.eol < today

    @property
    def osv_ecosystem(self) -> str:
        """The OSV ecosystem name of the distribution packages (`Debian:12`, `Alpine:v3.19`)."""
        if self.id == "debian":
            return f"Debian:{self.version_id}" if self.version_id else "Debian"
        if self.id == "alpine":
            major_minor = ".".join(self.version_id.split(".")[:2])
            return f"Alpine:v{major_minor}" if major_minor else "Alpine"
        return ""


@dataclass(frozen=True)
class Inventory:
    """Every package found (visible and deleted-later), and the OS, for one image."""

    packages: tuple[Package, ...]
    os: OsInfo | None = None
    notes: tuple[str, ...] = ()  # what was found but not read (an old rpm database, ...)

    @property
    def visible(self) -> tuple[Package, ...]:
        return tuple(p for p in self.packages if not p.deleted)
