"""The EOL table's Debian and Ubuntu rows equal Debian's distro-info-data package (installed
by scripts/scan-tools.sh): Debian's `eol-lts` column, Ubuntu's `eol` column."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from trimdock.security.osrelease import EOL_TABLE

DISTRO_INFO = Path("/usr/share/distro-info")
COLUMN = {"debian": "eol-lts", "ubuntu": "eol"}


@pytest.mark.parametrize("distribution", sorted(COLUMN))
def test_table_rows_equal_distro_info_data(distribution: str) -> None:
    path = DISTRO_INFO / f"{distribution}.csv"
    if not path.exists():
        pytest.skip("distro-info-data missing: run scripts/scan-tools.sh")
    published: dict[str, dt.date] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            version = row["version"].split()[0] if row["version"] else ""
            if version and row.get(COLUMN[distribution]):
                published[version] = dt.date.fromisoformat(row[COLUMN[distribution]])
    rows = [entry for entry in EOL_TABLE if entry.distribution == distribution]
    assert rows
    assert {e.release: e.eol for e in rows} == {e.release: published[e.release] for e in rows}
