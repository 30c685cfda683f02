"""Which OSV records describe the rpm packages of an image's distribution (pure).

OSV has no "RPM" ecosystem: each rpm distribution publishes its own, keyed its own way
(the ecosystem descriptions in ../shared/data/osv/ecosystems.json):

* `Red Hat:<CPE without cpe:/[oa]:redhat:>`, e.g. `Red Hat:enterprise_linux:9::baseos`; the
  name is a binary *or* a source rpm. A RHEL (or UBI) image of release 9.x takes the records
  of every `enterprise_linux:9` stream (baseos, appstream, crb...); the extended-support
  streams (`rhel_eus:9.2`, `rhel_aus`...) are for subscriptions pinned to a minor release,
  which os-release does not say, so they are not taken.
* `Rocky Linux[:<major>]`, `AlmaLinux[:<major>]`: the source package's name.
* `openSUSE:<release>`, `SUSE:<release>`: the source package's name, `<release>` the
  os-release `PRETTY_NAME` (published both with and without the leading vendor word, so
  both are taken); `ecosystem_specific.binaries` lists the binary rpms a fix ships, and when
  a record has that list, a binary not in it is not affected. SUSE records of a module
  (`SUSE Linux Enterprise Module for Basesystem 15 SP5`) name a product os-release does not
  state: they are not taken.

Versions are `[epoch:]version-release` in rpm's order (trimdock.security.vuln.versions).
"""

from __future__ import annotations

from dataclasses import dataclass

from trimdock.security.model import OsInfo


@dataclass(frozen=True)
class RpmTarget:
    """The OSV ecosystem (`base`) and releases whose records apply to this image's rpms."""

    base: str
    releases: frozenset[str]  # accepted suffixes after "base:" ("" = a record without one)
    release_prefix: str = ""  # any suffix starting with this is accepted too (Red Hat)
    binary_names: bool = False  # records may name binary rpms (Red Hat), not only sources

    def accepts(self, ecosystem: str) -> bool:
        base, colon, release = ecosystem.partition(":")
        if base != self.base:
            return False
        if not colon:
            return "" in self.releases
        return release in self.releases or bool(
            self.release_prefix and release.startswith(self.release_prefix)
        )


_SOURCE_KEYED = {"rocky": "Rocky Linux", "almalinux": "AlmaLinux"}
_SUSE = {
    "opensuse-leap": "openSUSE",
    "opensuse-tumbleweed": "openSUSE",
    "opensuse-leap-micro": "openSUSE",
    "sles": "SUSE",
    "sles_sap": "SUSE",
    "sled": "SUSE",
    "sle-micro": "SUSE",
    "sl-micro": "SUSE",
}


def rpm_target(os: OsInfo | None) -> RpmTarget | None:
    """Where this distribution's rpm advisories live, or None for a distribution (or a missing
    os-release) whose rpm records trimdock does not know how to key."""
    if os is None:
        return None
    major = os.version_id.split(".", 1)[0]
    if os.id == "rhel" and major:
        return RpmTarget(
            "Red Hat",
            frozenset(),
            release_prefix=f"enterprise_linux:{major}:",
            binary_names=True,
        )
    if os.id in _SOURCE_KEYED:
        return RpmTarget(_SOURCE_KEYED[os.id], frozenset({"", major} if major else {""}))
    vendor = _SUSE.get(os.id)
    if vendor and os.pretty_name:
        short = os.pretty_name.removeprefix(vendor + " ")
        return RpmTarget(vendor, frozenset({os.pretty_name, short}))
    return None
