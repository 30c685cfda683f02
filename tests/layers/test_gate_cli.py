"""Thresholds, option combinations and config handling of `trimdock layers` (no engine)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.layers.builders import f, wh
from trimdock.cli.main import run
from trimdock.errors import UsageError
from trimdock.layers.analysis import analyze_layers
from trimdock.layers.gate import (
    Thresholds,
    WasteLimit,
    evaluate,
    parse_max_waste,
    parse_min_efficiency,
)
from trimdock.report.output import write_atomically


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000", WasteLimit(bytes=1000)),
        (5000, WasteLimit(bytes=5000)),
        ("50MB", WasteLimit(bytes=50_000_000)),
        ("20 MiB", WasteLimit(bytes=20 * 1024 * 1024)),
        ("1.5kB", WasteLimit(bytes=1500)),
        ("10%", WasteLimit(percent=10.0)),
        ("0.5 %", WasteLimit(percent=0.5)),
    ],
)
def test_max_waste_accepts_bytes_units_and_percentages(
    text: str | int, expected: WasteLimit
) -> None:
    assert parse_max_waste(text) == expected


@pytest.mark.parametrize("text", ["lots", "10 parsecs", "-5", "150%", "%"])
def test_max_waste_rejects_what_it_cannot_read(text: str) -> None:
    with pytest.raises(UsageError, match="--max-waste"):
        parse_max_waste(text)


@pytest.mark.parametrize(("text", "ratio"), [("0.9", 0.9), ("90%", 0.9), (1, 1.0), (0.25, 0.25)])
def test_min_efficiency_takes_a_ratio_or_percentage(text: str | float, ratio: float) -> None:
    assert parse_min_efficiency(text) == pytest.approx(ratio)


@pytest.mark.parametrize("text", ["high", "1.5", "120%"])
def test_min_efficiency_rejects_out_of_range(text: str) -> None:
    with pytest.raises(UsageError, match="--min-efficiency"):
        parse_min_efficiency(text)


def test_gate_uses_exact_figures() -> None:
    analysis = analyze_layers([[f("a", 900), f("b", 100)], [wh("a")]])  # 90% wasted
    passing = evaluate(analysis, Thresholds(WasteLimit(bytes=900), 0.1))
    assert passing.passed
    failing = evaluate(analysis, Thresholds(WasteLimit(percent=89.0), 0.2))
    assert [c.passed for c in failing.checks] == [False, False]
    assert failing.checks[0].actual == pytest.approx(90.0)
    assert failing.checks[1].actual == pytest.approx(0.1)


@pytest.mark.parametrize(
    "args",
    [
        ["--export", "out"],
        ["--extract", "/a"],
        ["--to", "x"],
        ["--deleted", "--at", "1"],
        ["--deleted", "--max-waste", "1"],
        ["--at", "1", "--export", "o", "--extract", "/a", "--to", "x"],
    ],
)
def test_incompatible_options_are_usage_errors(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["layers", "docker-archive:/nonexistent.tar", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert run(["layers", "x.tar", "--top", "-1"]) == 2  # typer's own range check


def test_bad_config_threshold_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / ".trimdock.toml"
    config.write_text("[layers]\nmax-waste = 'plenty'\n")
    assert run(["layers", "docker-archive:/nonexistent.tar", "--config", str(config)]) == 2
    assert "[layers] max-waste" in capsys.readouterr().err


def test_output_to_a_device_writes_through_it(tmp_path: Path) -> None:
    # Renaming a temporary file over /dev/null would replace the device for the whole machine.
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    write_atomically(device, "report\n")
    assert stat.S_ISCHR(device.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]
