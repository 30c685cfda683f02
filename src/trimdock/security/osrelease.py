"""The distribution an image is built on (`etc/os-release`) and its end of life.

EOL_TABLE: the end of the last support the distribution itself publishes for a release
(Debian: end of LTS; Alpine: end of the release branch's security fixes; Ubuntu: end of
standard support, without paid ESM). Each row names its source, and an EOL finding quotes it:

* Debian and Ubuntu rows are the `eol-lts` (Debian) and `eol` (Ubuntu) columns of Debian's
  distro-info-data package, version 0.58+deb12u7 (/usr/share/distro-info/debian.csv and
  ubuntu.csv), checked line by line by tests/security/test_eol_table.py wherever that package
  is installed (scripts/scan-tools.sh installs it). Entered 2026-11-30; Ubuntu 20.04 corrected
  that day to 2025-05-29 (was 2025-05-31).
* Alpine rows are transcribed from the Alpine Linux releases page (alpinelinux.org/releases,
  its "End of Support" column), entered 2026-11-30. Nothing reachable from here confirms them:
  distro-info-data has no Alpine file, an Alpine image's own `alpine-release`/`os-release`
  carry no end-of-life date, and the one PyPI package found naming Alpine releases
  (alpine-release-info 1.0.1, 2017) lists branch names and download files, no dates. So these
  rows are marked unconfirmed, and the text report and the finding say so.

A release missing here has no EOL finding, never a guessed one.
"""

from __future__ import annotations

import datetime as dt
import shlex

from trimdock.security.model import EolEntry, OsInfo

EOL_TABLE_DATE = dt.date(2026, 11, 30)

DISTRO_INFO = "Debian's distro-info-data 0.58+deb12u7"
ALPINE_PAGE = "the Alpine releases page, transcribed 2026-11-30, unconfirmed"
# Sources whose rows the tests check against a file on the machine.
CONFIRMED_SOURCES = frozenset({DISTRO_INFO})


def _row(distribution: str, release: str, eol: dt.date) -> EolEntry:
    source = ALPINE_PAGE if distribution == "alpine" else DISTRO_INFO
    return EolEntry(distribution, release, eol, source)


EOL_TABLE: tuple[EolEntry, ...] = (
    _row("debian", "8", dt.date(2020, 6, 30)),
    _row("debian", "9", dt.date(2022, 6, 30)),
    _row("debian", "10", dt.date(2024, 6, 30)),
    _row("debian", "11", dt.date(2026, 8, 31)),
    _row("debian", "12", dt.date(2028, 6, 30)),
    _row("debian", "13", dt.date(2030, 6, 30)),
    _row("alpine", "3.14", dt.date(2023, 5, 1)),
    _row("alpine", "3.15", dt.date(2023, 11, 1)),
    _row("alpine", "3.16", dt.date(2024, 5, 23)),
    _row("alpine", "3.17", dt.date(2024, 11, 22)),
    _row("alpine", "3.18", dt.date(2025, 5, 9)),
    _row("alpine", "3.19", dt.date(2025, 11, 1)),
    _row("alpine", "3.20", dt.date(2026, 4, 1)),
    _row("alpine", "3.21", dt.date(2026, 11, 1)),
    _row("alpine", "3.22", dt.date(2027, 5, 1)),
    _row("ubuntu", "18.04", dt.date(2023, 5, 31)),
    _row("ubuntu", "20.04", dt.date(2025, 5, 29)),
    _row("ubuntu", "22.04", dt.date(2027, 6, 1)),
    _row("ubuntu", "24.04", dt.date(2029, 5, 31)),
)


def parse_os_release(data: bytes) -> dict[str, str]:
    """`KEY=value` lines with shell quoting, as os-release(5) defines them."""
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            words = shlex.split(value)
        except ValueError:
            words = [value.strip("\"'")]
        fields[key.strip()] = " ".join(words)
    return fields


def release_key(distribution: str, version_id: str) -> str:
    """The table's release key: Debian's major, Alpine's and Ubuntu's major.minor."""
    if distribution == "debian":
        return version_id.split(".")[0]
    return ".".join(version_id.split(".")[:2])


def eol_entry(distribution: str, version_id: str) -> EolEntry | None:
    key = release_key(distribution, version_id)
    for entry in EOL_TABLE:
        if entry.distribution == distribution and entry.release == key:
            return entry
    return None


def end_of_life(distribution: str, version_id: str) -> dt.date | None:
    entry = eol_entry(distribution, version_id)
    return entry.eol if entry else None


def os_info(data: bytes, *, layer: int, path: str) -> OsInfo | None:
    fields = parse_os_release(data)
    distribution = fields.get("ID", "").lower()
    if not distribution:
        return None
    version_id = fields.get("VERSION_ID", "")
    entry = eol_entry(distribution, version_id)
    return OsInfo(
        id=distribution,
        version_id=version_id,
        pretty_name=fields.get("PRETTY_NAME", distribution),
        codename=fields.get("VERSION_CODENAME", ""),
        layer=layer,
        path=path,
        eol=entry.eol if entry else None,
        eol_source=entry.source if entry else "",
        eol_confirmed=entry is not None and entry.source in CONFIRMED_SOURCES,
    )
