"""The filesystem comparison of `fix --verify` (pure): lost paths a fix meant to remove pass,
any other lost path rejects."""

from __future__ import annotations

import pytest

from trimdock.fix.compare import DPKG_RECOMMENDS, STAGE_BUILD, compare

BEFORE = {
    "/etc/app.conf": 10,
    "/var/lib/apt/lists": -1,
    "/var/lib/apt/lists/deb.debian.org_dists": 4000,
    "/root/.cache/pip/wheels/x.whl": 300,
    "/usr/bin/fuser": 50,
    "/var/lib/dpkg/info/psmisc.list": 20,
    "/var/lib/dpkg/info/psmisc.md5sums": 20,
    "/var/cache/apt/archives/psmisc_23.6-1_amd64.deb": 90,
    "/usr/bin/gcc": 900,
    "/bin/sh": 100,
}
LISTS = {"psmisc": ("/.", "/bin", "/bin/fuser")}


@pytest.mark.parametrize(
    ("lost", "removes", "unexpected"),
    [
        (
            ["/var/lib/apt/lists", "/var/lib/apt/lists/deb.debian.org_dists"],
            ["/var/lib/apt/lists/*"],
            ["/var/lib/apt/lists"],
        ),
        (["/var/lib/apt/lists/deb.debian.org_dists"], ["/var/lib/apt/lists/*"], []),
        (["/root/.cache/pip/wheels/x.whl"], ["*/.cache/pip"], []),
        (["/etc/app.conf"], ["*/.cache/pip", "/var/lib/apt/lists/*"], ["/etc/app.conf"]),
        (
            [
                "/usr/bin/fuser",
                "/var/lib/dpkg/info/psmisc.list",
                "/var/lib/dpkg/info/psmisc.md5sums",
                "/var/cache/apt/archives/psmisc_23.6-1_amd64.deb",
            ],
            [DPKG_RECOMMENDS],
            [],
        ),
        (["/usr/bin/fuser"], [DPKG_RECOMMENDS], ["/usr/bin/fuser"]),  # psmisc is still there
        (["/usr/bin/gcc"], [STAGE_BUILD], []),
        (["/bin/sh"], [STAGE_BUILD], ["/bin/sh"]),  # the base's own file
        (["/usr/bin/gcc"], [], ["/usr/bin/gcc"]),
    ],
)
def test_only_what_a_fix_meant_to_remove_may_go(
    lost: list[str], removes: list[str], unexpected: list[str]
) -> None:
    after = {p: s for p, s in BEFORE.items() if p not in lost}
    result = compare(BEFORE, after, removes, LISTS, frozenset({"/usr/bin/gcc"}))
    assert result.lost == tuple(sorted(lost))
    assert list(result.unexpected) == sorted(unexpected)
    assert result.accepted is (not unexpected)


def test_added_and_changed_paths_are_listed_not_rejected() -> None:
    after = {**BEFORE, "/etc/app.conf": 11, "/new": 1}
    result = compare(BEFORE, after, [])
    assert result.added == ("/new",) and result.changed == ("/etc/app.conf",)
    assert result.accepted
