"""Debian's package databases, parsed: who owns which file, and which packages are there only
because apt installed recommendations.

Inputs are the bytes of `var/lib/dpkg/status`, `var/lib/dpkg/info/*.list` and
`var/lib/apt/extended_states` as the final filesystem holds them; nothing here reads files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

STATUS = "var/lib/dpkg/status"
EXTENDED_STATES = "var/lib/apt/extended_states"
INFO_DIR = "var/lib/dpkg/info/"
LIST_SUFFIX = ".list"
_MERGED = ("bin/", "sbin/", "lib/", "lib32/", "lib64/", "libx32/")

# A dependency atom: "name", "name:any", "name (>= 1.0)", "name [amd64]", "name <!nocheck>".
_ATOM = re.compile(r"^\s*([a-z0-9][a-z0-9+.\-]*)")


@dataclass(frozen=True, slots=True)
class DpkgPackage:
    """One installed package from dpkg's status file."""

    name: str
    architecture: str = ""
    version: str = ""
    installed_kib: int = 0
    depends: tuple[tuple[str, ...], ...] = ()  # Depends + Pre-Depends: groups of alternatives
    recommends: tuple[tuple[str, ...], ...] = ()
    provides: tuple[str, ...] = ()
    essential: bool = False
    priority: str = ""


@dataclass(frozen=True, slots=True)
class DpkgDb:
    """The installed packages, the auto-installed ones (apt), and each listed file's owner."""

    packages: Mapping[str, DpkgPackage]
    auto: frozenset[str]
    owners: Mapping[str, str]  # path (no leading "/") -> package name (first owner)
    kind: str = "dpkg"  # or "apk": the same model from Alpine's database


def paragraphs(text: str) -> Iterable[dict[str, str]]:
    """deb822 paragraphs: field names lower-cased, continuation lines joined."""
    fields: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields, last = {}, ""
            continue
        if line[0] in " \t":
            if last:
                fields[last] += "\n" + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        last = name.strip().lower()
        fields[last] = value.strip()
    if fields:
        yield fields


def parse_relations(value: str) -> tuple[tuple[str, ...], ...]:
    """`a (>= 1), b | c:any` -> (("a",), ("b", "c")): names only, architecture qualifiers off."""
    groups: list[tuple[str, ...]] = []
    for group in value.split(","):
        names: list[str] = []
        for alternative in group.split("|"):
            atom = _ATOM.match(alternative.strip().lower())
            if atom:
                names.append(atom.group(1))
        if names:
            groups.append(tuple(names))
    return tuple(groups)


def parse_status(text: str) -> dict[str, DpkgPackage]:
    """Installed packages (status `... installed`) by name."""
    packages: dict[str, DpkgPackage] = {}
    for fields in paragraphs(text):
        name = fields.get("package", "")
        state = fields.get("status", "").split()
        if not name or not state or state[-1] != "installed":
            continue
        try:
            kib = int(fields.get("installed-size", "0") or 0)
        except ValueError:
            kib = 0
        depends = parse_relations(fields.get("pre-depends", "")) + parse_relations(
            fields.get("depends", "")
        )
        packages[name] = DpkgPackage(
            name=name,
            architecture=fields.get("architecture", ""),
            version=fields.get("version", ""),
            installed_kib=kib,
            depends=depends,
            recommends=parse_relations(fields.get("recommends", "")),
            provides=tuple(g[0] for g in parse_relations(fields.get("provides", ""))),
            essential="yes"
            in (
                fields.get("essential", "").lower(),
                fields.get("protected", "").lower(),
            ),
            priority=fields.get("priority", "").lower(),
        )
    return packages


def parse_extended_states(text: str) -> frozenset[str]:
    """Names of the packages apt marked auto-installed."""
    return frozenset(
        fields.get("package", "")
        for fields in paragraphs(text)
        if fields.get("auto-installed", "0").strip() == "1" and fields.get("package")
    )


def list_package(path: str) -> str | None:
    """`var/lib/dpkg/info/libc6:amd64.list` -> `libc6`; None for other paths."""
    if not (path.startswith(INFO_DIR) and path.endswith(LIST_SUFFIX)):
        return None
    name = path[len(INFO_DIR) : -len(LIST_SUFFIX)]
    if "/" in name or not name:
        return None
    return name.partition(":")[0]


def parse_list(text: str) -> Iterable[str]:
    """The paths of a `.list` file, normalised like layer entries (no leading `/`)."""
    for line in text.splitlines():
        path = line.strip().lstrip("/")
        if path and path != ".":
            yield path


def needed_packages(packages: Mapping[str, DpkgPackage], auto: frozenset[str]) -> frozenset[str]:
    """Everything a manually installed (or essential/protected) package needs through
    Depends/Pre-Depends, transitively. (Priority is a property of the archive, not of this
    system: apt itself protects only essential and protected packages from removal.)

    Every installed alternative of a group counts as needed (apt may have picked any of them):
    this errs towards keeping packages, never towards calling a needed one removable.
    """
    providers: dict[str, list[str]] = {}
    for package in packages.values():
        for virtual in package.provides:
            providers.setdefault(virtual, []).append(package.name)
    roots = [name for name, package in packages.items() if name not in auto or package.essential]
    needed: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        for group in packages[name].depends:
            for alternative in group:
                if alternative in packages and alternative not in needed:
                    stack.append(alternative)
                for provider in providers.get(alternative, ()):
                    if provider not in needed:
                        stack.append(provider)
    return frozenset(needed)


def recommends_only(db: DpkgDb) -> frozenset[str]:
    """Installed packages nothing manually installed needs through Depends/Pre-Depends: apt
    brought them for a Recommends, and `--no-install-recommends` would have left them out."""
    needed = needed_packages(db.packages, db.auto)
    return frozenset(name for name in db.packages if name not in needed)


def build_db(status: str, extended_states: str | None, lists: Mapping[str, str]) -> DpkgDb:
    """The database from the files' text; `lists` maps each `.list` path to its text."""
    packages = parse_status(status)
    auto = parse_extended_states(extended_states) if extended_states else frozenset()
    owners: dict[str, str] = {}
    for list_path in sorted(lists):
        name = list_package(list_path)
        if name is None or name not in packages:
            continue
        for path in parse_list(lists[list_path]):
            owners.setdefault(path, name)
            if path.startswith(_MERGED):
                # usrmerge: /bin is a symlink to usr/bin, so the file lives under usr/.
                owners.setdefault("usr/" + path, name)
    return DpkgDb(packages=packages, auto=frozenset(auto & packages.keys()), owners=owners)
