"""RPM version ordering: every line of tests/security/fixtures/rpm-versions.txt (rpm's own test
cases plus epoch/release cases) against trimdock's compare_rpm, and the same lines against rpm
itself (its Lua `rpm.vercmp`, rpm installed by scripts/scan-tools.sh) as the oracle."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from trimdock.security.vuln.versions import comparator, compare_rpm

TABLE = Path(__file__).parent / "fixtures" / "rpm-versions.txt"
EXPECTED = {"<": -1, "=": 0, ">": 1}


def _lines() -> list[tuple[str, str, str]]:
    cases = []
    for line in TABLE.read_text().splitlines():
        parts = line.split()
        if line.startswith("#") or len(parts) != 3 or parts[1] not in EXPECTED:
            continue
        cases.append((parts[0], parts[1], parts[2]))
    return cases


def test_table_has_rpms_own_cases_and_evr_cases() -> None:
    lines = _lines()
    assert len(lines) > 100
    assert any("~" in a for a, _, _ in lines) and any("^" in a for a, _, _ in lines)
    assert any(":" in a for a, _, _ in lines)


def test_every_table_line() -> None:
    failures = [
        f"{a} {op} {b} (got {compare_rpm(a, b)}, reverse {compare_rpm(b, a)})"
        for a, op, b in _lines()
        if compare_rpm(a, b) != EXPECTED[op] or compare_rpm(b, a) != -EXPECTED[op]
    ]
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:20])


@pytest.mark.skipif(shutil.which("rpm") is None, reason="rpm missing: run scripts/scan-tools.sh")
def test_table_agrees_with_rpm_itself() -> None:
    """The table is not trusted on its own: rpm answers each line in one `rpm --eval`."""
    lines = _lines()
    calls = " ".join(
        f"print(rpm.vercmp([[{a}]], [[{b}]]) .. ' ' .. rpm.vercmp([[{b}]], [[{a}]]) .. '\\n')"
        for a, _, b in lines
    )
    out = subprocess.run(
        ["rpm", "--eval", "%{lua: " + calls + "}"], capture_output=True, text=True, check=True
    ).stdout
    answers = [tuple(int(x) for x in row.split()) for row in out.splitlines() if row.strip()]
    assert len(answers) == len(lines)
    wrong = [
        f"{a} {op} {b}: rpm says {got}"
        for (a, op, b), got in zip(lines, answers, strict=True)
        if got != (EXPECTED[op], -EXPECTED[op])
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "ecosystem", ["Red Hat:enterprise_linux:9::baseos", "Rocky Linux:9", "AlmaLinux:8", "SUSE:x"]
)
def test_rpm_ecosystems_use_rpm_ordering(ecosystem: str) -> None:
    assert comparator(ecosystem) is compare_rpm
    assert comparator("openSUSE:openSUSE Leap 15.5") is compare_rpm
