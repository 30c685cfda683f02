"""Which OSV records affect which packages (pure).

A package is affected when its version is in the record's `versions` list, or inside one of its
`ECOSYSTEM`/`SEMVER` ranges by the ecosystem's own ordering. `GIT` ranges name commits, which an
installed package does not carry: OSV lists the affected versions of such records in `versions`,
and that list is what matches. Debian and Alpine records name the source package, so a binary
package is matched by its source name and version, against the records of its own release
(`Debian:12`). rpm packages are matched against the records of the image's distribution, keyed
as that distribution keys them (trimdock.security.vuln.rpmdistro). Records about one
vulnerability (linked by `aliases`) are merged into one row.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trimdock.security.model import Ecosystem, OsInfo, Package
from trimdock.security.vuln.database import Database
from trimdock.security.vuln.records import Affected, OsvRecord, Range
from trimdock.security.vuln.rpmdistro import rpm_target
from trimdock.security.vuln.severity import Level, record_severity
from trimdock.security.vuln.versions import Compare, comparator, compare_rpm, compare_semver


@dataclass(frozen=True)
class Vulnerability:
    """One vulnerability of one package (all the records that describe it merged)."""

    id: str
    ids: tuple[str, ...]  # every record id and alias, sorted
    cves: tuple[str, ...]
    package: Package
    level: Level
    score: float | None
    fixed: str | None  # the lowest version that fixes it, when the records name one
    summary: str

    @property
    def fix_text(self) -> str:
        return f"upgrade to ≥ {self.fixed}" if self.fixed else "no fixed version known"


def range_affects(rng: Range, version: str, compare: Compare) -> tuple[bool, str | None]:
    """Whether `version` is inside the range, and the fix that ends its interval, if any."""
    cmp = compare_semver if rng.type == "SEMVER" else compare

    def order(a: str, b: str) -> int:
        if a == b:
            return 0
        if a == "0":
            return -1
        if b == "0":
            return 1
        return cmp(a, b)

    events = sorted(
        (e for e in rng.events if e.kind != "limit"),
        key=lambda event: functools.cmp_to_key(order)(event.version),
    )
    affected = False
    fixed: str | None = None
    for event in events:
        position = order(version, event.version)
        if event.kind == "introduced" and position >= 0:
            affected, fixed = True, None
        elif event.kind == "fixed":
            if position >= 0:
                affected = False
            elif affected and fixed is None:
                fixed = event.version
        elif event.kind == "last_affected" and position > 0:
            affected = False
    return affected, (fixed if affected else None)


def affects(affected: Affected, version: str) -> tuple[bool, str | None]:
    compare = comparator(affected.ecosystem)
    hit = version in affected.versions
    if not hit and compare is compare_rpm and affected.versions:
        # rpm versions are written with or without a zero epoch ("0:1.2-3" is "1.2-3").
        hit = any(compare_rpm(version, listed) == 0 for listed in affected.versions)
    fixes: list[str] = []
    for rng in affected.ranges:
        if rng.type not in ("ECOSYSTEM", "SEMVER") or compare is None:
            continue
        inside, fixed = range_affects(rng, version, compare)
        if inside:
            hit = True
            if fixed:
                fixes.append(fixed)
    if not hit:
        return False, None
    if fixes and compare is not None:
        return True, min(fixes, key=functools.cmp_to_key(compare))
    return True, None


def _lookup_name_version(package: Package) -> tuple[str, str]:
    if package.ecosystem in (Ecosystem.DEBIAN, Ecosystem.ALPINE) and package.source_name:
        return package.source_name, package.source_version or package.version
    return package.name, package.version


def _ecosystem_matches(affected: Affected, package: Package, os: OsInfo | None) -> bool:
    if package.ecosystem in (Ecosystem.DEBIAN, Ecosystem.ALPINE):
        # Distribution records are per release: Debian:11's fixes say nothing about Debian:12.
        return os is not None and affected.ecosystem == os.osv_ecosystem
    return affected.ecosystem == package.ecosystem.value


def _candidates(
    package: Package, database: Database, os: OsInfo | None
) -> list[tuple[OsvRecord, Affected]]:
    """The records that may concern the package: same ecosystem (and release), same name."""
    if package.ecosystem is Ecosystem.RPM:
        return _rpm_candidates(package, database, os)
    name, _ = _lookup_name_version(package)
    return [
        (record, affected)
        for record, affected in database.lookup(package.ecosystem.value, name)
        if _ecosystem_matches(affected, package, os)
    ]


def _rpm_candidates(
    package: Package, database: Database, os: OsInfo | None
) -> list[tuple[OsvRecord, Affected]]:
    target = rpm_target(os)
    if target is None:
        return []
    names = [package.source_name or package.name]
    if target.binary_names and package.name not in names:
        names.append(package.name)
    found: list[tuple[OsvRecord, Affected]] = []
    for name in names:
        for record, affected in database.lookup(target.base, name):
            if not target.accepts(affected.ecosystem):
                continue
            if affected.binaries and package.name not in affected.binaries:
                continue  # the fixed source ships other binaries than this one
            found.append((record, affected))
    return found


def match_package(package: Package, database: Database, os: OsInfo | None) -> list[Vulnerability]:
    _, version = _lookup_name_version(package)
    hits: list[tuple[OsvRecord, Affected, str | None]] = []
    for record, affected in _candidates(package, database, os):
        inside, fixed = affects(affected, version)
        if inside:
            hits.append((record, affected, fixed))
    return _merge(package, hits)


def _merge(
    package: Package, hits: Sequence[tuple[OsvRecord, Affected, str | None]]
) -> list[Vulnerability]:
    """One row per group of records linked by ids and aliases (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for record, _, _ in hits:
        for alias in record.aliases:
            parent[find(alias)] = find(record.id)
        find(record.id)
    groups: dict[str, list[tuple[OsvRecord, Affected, str | None]]] = defaultdict(list)
    for hit in hits:
        groups[find(hit[0].id)].append(hit)
    compare = comparator(package.ecosystem.value)
    rows = []
    for members in groups.values():
        records = sorted({m[0].id: m[0] for m in members}.values(), key=lambda r: r.id)
        ids = sorted({i for r in records for i in (r.id, *r.aliases)})
        levels = [record_severity(r, a.severity) for r, a, _ in members]
        level, score = max(levels, key=lambda x: (x[0].rank, x[1] or 0.0))
        fixes = [f for _, _, f in members if f]
        fixed = None
        if fixes:
            fixed = max(fixes, key=functools.cmp_to_key(compare)) if compare else fixes[0]
        rows.append(
            Vulnerability(
                id=records[0].id,
                ids=tuple(ids),
                cves=tuple(i for i in ids if i.startswith("CVE-")),
                package=package,
                level=level,
                score=score,
                fixed=fixed,
                summary=next((r.summary for r in records if r.summary), ""),
            )
        )
    return rows


def match_inventory(
    packages: Iterable[Package], database: Database, os: OsInfo | None
) -> list[Vulnerability]:
    """Every vulnerability of every package (deleted ones too: their bytes ship), most severe
    first, then by package and id."""
    rows = [row for package in packages for row in match_package(package, database, os)]
    rows.sort(key=lambda v: (-v.level.rank, -(v.score or 0.0), v.package.name.lower(), v.id))
    return rows
