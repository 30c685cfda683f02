"""Every line of the shared version-order tables, for every ecosystem trimdock compares."""

from __future__ import annotations

import pytest

from tests.support.shared import SHARED_DATA
from trimdock.security.vuln.versions import (
    compare_alpine,
    compare_debian,
    compare_maven,
    compare_pypi,
    compare_semver,
)

TABLES = SHARED_DATA / "version-order"

CASES = {
    "debian": compare_debian,
    "alpine": compare_alpine,
    "pypi": compare_pypi,
    "maven": compare_maven,
}


def _lines(name: str) -> list[tuple[str, str, str]]:
    cases = []
    for suffix in ("", "-generated"):
        path = TABLES / f"{name}-versions{suffix}.txt"
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 3 or line.startswith(("#", "//")) or parts[1] not in "<=>":
                continue
            cases.append((parts[0], parts[1], parts[2]))
    return cases


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_table_line(name: str) -> None:
    compare = CASES[name]
    expected = {"<": -1, "=": 0, ">": 1}
    failures = [
        f"{a} {op} {b} (got {compare(a, b)}, reverse {compare(b, a)})"
        for a, op, b in _lines(name)
        if compare(a, b) != expected[op] or compare(b, a) != -expected[op]
    ]
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:20])


@pytest.mark.parametrize(
    ("a", "op", "b"),
    [
        ("1.0.0", "<", "1.0.1"),
        ("v1.2.3", "=", "1.2.3"),
        ("1.0.0-alpha", "<", "1.0.0"),
        ("1.0.0-alpha", "<", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "<", "1.0.0-alpha.beta"),
        ("1.0.0-beta.2", "<", "1.0.0-beta.11"),
        ("1.0.0-rc.1", "<", "1.0.0"),
        ("1.0.0+build.1", "=", "1.0.0"),
        ("v0.0.0-20230101000000-abcdef123456", "<", "v0.1.0"),
        ("v2.0.0+incompatible", ">", "v1.9.9"),
    ],
)
def test_semver_precedence(a: str, op: str, b: str) -> None:
    assert compare_semver(a, b) == {"<": -1, "=": 0, ">": 1}[op]
