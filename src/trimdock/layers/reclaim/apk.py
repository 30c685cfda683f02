"""Alpine's package database, parsed into the same model as dpkg's: who owns which file, what
each package depends on, and which packages were asked for (`/etc/apk/world`).

apk has no recommendations and removes orphans itself, so only ownership and the build-only
closure come from it. Nothing here reads files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from trimdock.layers.reclaim.dpkg import DpkgDb, DpkgPackage

INSTALLED = "lib/apk/db/installed"
WORLD = "etc/apk/world"

# A world or dependency atom: "name", "name>=1.2", "name~1", "name@tag", "so:libc.so.1".
_ATOM = re.compile(r"^([^<>=~@!\s]+)")


def _names(words: Iterable[str]) -> tuple[str, ...]:
    found = []
    for word in words:
        if word.startswith("!"):  # a conflict, not a dependency
            continue
        atom = _ATOM.match(word)
        if atom:
            found.append(atom.group(1))
    return tuple(found)


def parse_installed(text: str) -> tuple[dict[str, DpkgPackage], dict[str, str]]:
    """Packages by name, and the owner of every file (`F:` folder + `R:` name)."""
    packages: dict[str, DpkgPackage] = {}
    owners: dict[str, str] = {}
    fields: dict[str, list[str]] = {}
    files: list[str] = []
    folder = ""

    def flush() -> None:
        name = (fields.get("P") or [""])[0]
        if name:
            packages[name] = DpkgPackage(
                name=name,
                architecture=(fields.get("A") or [""])[0],
                version=(fields.get("V") or [""])[0],
                depends=tuple((dep,) for dep in _names(" ".join(fields.get("D", [])).split())),
                provides=_names(" ".join(fields.get("p", [])).split()),
            )
            for path in files:
                owners.setdefault(path, name)

    for line in [*text.splitlines(), ""]:
        if not line.strip():
            flush()
            fields, files, folder = {}, [], ""
            continue
        key, sep, value = line.partition(":")
        if not sep or len(key) != 1:
            continue
        if key == "F":
            folder = value.strip().strip("/")
        elif key == "R":
            name = value.strip()
            files.append(f"{folder}/{name}" if folder else name)
        else:
            fields.setdefault(key, []).append(value.strip())
    return packages, owners


def build_apk_db(installed: str, world: str | None) -> DpkgDb:
    """The database; packages not in the world file count as pulled in by others."""
    packages, owners = parse_installed(installed)
    asked = set(_names((world or "").split()))
    auto = frozenset(name for name in packages if name not in asked) if world else frozenset()
    return DpkgDb(packages=packages, auto=auto, owners=owners, kind="apk")
