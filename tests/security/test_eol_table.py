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


def test_every_row_names_its_source_and_only_checked_ones_are_confirmed() -> None:
    from trimdock.security.osrelease import ALPINE_PAGE, CONFIRMED_SOURCES, DISTRO_INFO

    for entry in EOL_TABLE:
        assert entry.source == (ALPINE_PAGE if entry.distribution == "alpine" else DISTRO_INFO)
    # Alpine's dates are checked by no file here (the test above covers distro-info's only).
    assert ALPINE_PAGE not in CONFIRMED_SOURCES and "unconfirmed" in ALPINE_PAGE
    assert set(COLUMN) == {e.distribution for e in EOL_TABLE if e.source in CONFIRMED_SOURCES}


def test_alpine_eol_finding_and_header_say_where_the_date_comes_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from tests.security.crafted import crafted_image
    from trimdock.cli.main import run

    release = b"ID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME='Alpine Linux v3.18'\n"
    image = crafted_image(tmp_path / "img", [[("etc/os-release", release, 0o644)]])
    assert run(["scan", image, "-F", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["os"]["eol_source"] == (
        "the Alpine releases page, transcribed 2026-11-30, unconfirmed"
    )
    assert document["os"]["eol_confirmed"] is False
    (finding,) = [f for f in document["findings"] if f["rule"] == "TD902"]
    assert finding["message"] == (
        "Alpine Linux v3.18 reached end of life on 2025-05-09"
        " (per the Alpine releases page, transcribed 2026-11-30, unconfirmed)"
    )
    assert run(["scan", image]) == 0
    assert (
        "OS Alpine Linux v3.18, end of life 2025-05-09 (per the Alpine releases page, "
        "transcribed 2026-11-30, unconfirmed)" in capsys.readouterr().out
    )
