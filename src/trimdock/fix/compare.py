"""Comparing the final filesystems of the original and the fixed image (pure).

A fix says what it means to remove (`Fix.removes`): path patterns (`/var/lib/apt/lists/*`,
`*/.cache/pip`) or `dpkg:recommends`, the files of the Debian packages the fixed image no
longer installs (from dpkg's own file lists in the original image). Any other lost path means
the rewrite changed what the image holds: the fix is rejected.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DPKG_RECOMMENDS = "dpkg:recommends"
# What a builder stage leaves behind: every path the original's build added on top of its base
# image (the base's own files must all stay).
STAGE_BUILD = "stage:build"
_DPKG_INFO = "/var/lib/dpkg/info/"


@dataclass(frozen=True)
class Comparison:
    lost: tuple[str, ...]  # in the original image, not in the fixed one
    added: tuple[str, ...]
    changed: tuple[str, ...]  # same path, another size or kind
    unexpected: tuple[str, ...]  # lost paths no applied fix meant to remove

    @property
    def accepted(self) -> bool:
        return not self.unexpected


def _pattern_allows(path: str, patterns: Sequence[str]) -> bool:
    return any(
        fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, f"{p}/*") for p in patterns
    )


def _removed_packages(lost: Sequence[str]) -> set[str]:
    return {
        path[len(_DPKG_INFO) : -len(".list")]
        for path in lost
        if path.startswith(_DPKG_INFO) and path.endswith(".list")
    }


# Merged /usr (Debian 12 on): a package lists /bin/fuser, the image holds /usr/bin/fuser.
_MERGED = ("/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/")


def _package_paths(packages: set[str], dpkg_lists: Mapping[str, Sequence[str]]) -> set[str]:
    owned: set[str] = set()
    for package in packages:
        for listed in dpkg_lists.get(package, ()):
            path = posixpath.normpath(listed)
            owned.add(path)
            if path.startswith(_MERGED):
                owned.add(f"/usr{path}")
    return owned


def _archive_prefixes(packages: set[str]) -> tuple[str, ...]:
    """The downloaded .deb of each package (`name_version_arch.deb`), when apt kept it."""
    return tuple(f"/var/cache/apt/archives/{p.split(':', 1)[0]}_" for p in packages)


def compare(
    before: Mapping[str, int],
    after: Mapping[str, int],
    removes: Sequence[str],
    dpkg_lists: Mapping[str, Sequence[str]] | None = None,
    build_added: frozenset[str] = frozenset(),
) -> Comparison:
    """Every path that differs, and the lost ones no fix accounted for."""
    lost = tuple(sorted(p for p in before if p not in after))
    added = tuple(sorted(p for p in after if p not in before))
    changed = tuple(sorted(p for p in before if p in after and before[p] != after[p]))
    patterns = [r for r in removes if not r.startswith("dpkg:")]
    owned: set[str] = set()
    info: tuple[str, ...] = ()
    if DPKG_RECOMMENDS in removes:
        packages = _removed_packages(lost)
        owned = _package_paths(packages, dpkg_lists or {})
        info = tuple(f"{_DPKG_INFO}{package}." for package in packages)  # .list, .md5sums...
        info += _archive_prefixes(packages)
    unexpected = tuple(
        p
        for p in lost
        if not _pattern_allows(p, patterns)
        and p not in owned
        and not (info and p.startswith(info))
        and not (STAGE_BUILD in removes and p in build_added)
    )
    return Comparison(lost, added, changed, unexpected)
