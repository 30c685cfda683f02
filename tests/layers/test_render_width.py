"""The layer report fits the terminal: every figure whole at 80 columns, long instructions and
paths shortened (the middle of a path), and `--wide` prints them in full."""

from __future__ import annotations

import io

from rich.console import Console

from tests.layers.builders import content, d, entry, image, wh
from trimdock.layers.analysis import analyze_layers
from trimdock.layers.render import elide_middle, render_analysis

LONG_RUN = "apt-get update && apt-get install -y --no-install-recommends " + " ".join(
    f"package-number-{i}" for i in range(30)
)
DEEP = "/".join(f"folder{i}" for i in range(20))


def report(width: int, *, wide: bool = False) -> str:
    img = image(
        [
            [entry(d("opt")), content(f"opt/{DEEP}/big.bin", b"x" * 5000)],
            [entry(wh(f"opt/{DEEP}/big.bin"))],
        ],
        commands=[LONG_RUN, "rm /opt/..."],
    )
    analysis = analyze_layers((layer.content.entries() for layer in img.layers), top=10)
    out = io.StringIO()
    console = Console(file=out, width=width, no_color=True, highlight=False)
    render_analysis(console, img, analysis, None, wide=wide)
    return out.getvalue()


def test_80_columns_keeps_every_figure_and_fits() -> None:
    text = report(80)
    lines = text.splitlines()
    assert [line for line in lines[1:] if len(line) > 80] == []  # the image line may be long
    # The instruction has a line of its own, as wide as the terminal, not a 20-character column.
    instruction = next(line for line in lines if "RUN apt-get" in line)
    assert instruction.startswith("    RUN apt-get update") and len(instruction) == 80
    row = next(line for line in lines if line.lstrip().startswith("0 "))
    assert row.split()[:4] == ["0", "5.0", "kB", "5.0"]  # size and wasted, whole
    wasted = next(line for line in lines if "deleted" in line)
    assert "5.0 kB" in wasted and "/opt/folder0/" in wasted and "…" in wasted


def test_wide_prints_instructions_and_paths_in_full() -> None:
    text = report(80, wide=True)
    assert LONG_RUN in " ".join(text.split())
    assert f"/opt/{DEEP}" in text


def test_wide_terminal_keeps_one_line_per_layer() -> None:
    lines = report(200).splitlines()
    assert lines[1].endswith("instruction")
    assert "RUN apt-get update" in lines[2]


def test_elide_middle_keeps_both_ends() -> None:
    assert elide_middle("/a/very/long/path/file.txt", 12) == "/a/ve…le.txt"
    assert elide_middle("/short", 12) == "/short"
