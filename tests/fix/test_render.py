"""The text of `trimdock fix` (pure): the before/after table and the verdict."""

from __future__ import annotations

from trimdock.engine.build import Build
from trimdock.fix.compare import Comparison
from trimdock.fix.engine import Filesystem
from trimdock.fix.render import table, verdict
from trimdock.fix.verify import Side, Verification


def _side(size: int, layers: int, seconds: float, rebuilt: int) -> Side:
    filesystem = Filesystem({}, size, layers, size // 10, {}, {})
    return Side(Build("t", seconds, 4, 0), filesystem, Build("t", seconds / 2, 4, 4 - rebuilt))


def test_the_table_shows_sizes_layers_waste_and_the_rebuild() -> None:
    comparison = Comparison(("/var/lib/apt/lists/x",), (), (), ())
    result = Verification(
        _side(300_000_000, 4, 20.0, 4), _side(200_000_000, 3, 10.0, 1), comparison, "app.conf"
    )
    lines = table(result).splitlines()
    assert lines[1].split() == [
        "image",
        "size",
        "300.0",
        "MB",
        "200.0",
        "MB",
        "-100.0",
        "MB",
        "(-33.3%)",
    ]
    assert lines[2].split() == ["layers", "4", "3", "-1"]
    assert lines[-1].split()[-4:] == ["5.0", "s", "(1/4", "re-run)"]
    assert verdict(result).endswith(
        "Verified: every removed path is one the fixes meant to remove.\n"
    )


def test_the_verdict_lists_unexpected_losses_and_build_failures() -> None:
    lost = tuple(f"/etc/f{i}" for i in range(12))
    rejected = Verification(
        _side(1, 1, 1.0, 1), _side(1, 1, 1.0, 1), Comparison(lost, (), (), lost), None
    )
    text = verdict(rejected)
    assert "lost 12 paths no fix meant to remove" in text and "... and 2 more" in text
    failed = Verification(_side(1, 1, 1.0, 1), None, None, None, "step 2 failed")
    assert verdict(failed) == "Rejected: the fixed Dockerfile does not build:\nstep 2 failed\n"
    assert "-" in table(failed).splitlines()[1]
