"""The README's `fix --verify` table is what `trimdock fix --unsafe-fixes` prints on
examples/service/v1: a real run on the engine, compared row by row (sizes and path counts within
10%: Debian's packages move; layers, cache reuse and the verdict exactly)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from trimdock.cli.main import run
from trimdock.report.units import parse_size

REPO = Path(__file__).resolve().parents[2]
_RUN = re.compile(r"\((\d+/\d+) re-run\)")
_COUNTS = re.compile(r"Filesystem: (\d+) paths removed, (\d+) added, (\d+) changed\.")


def _readme_table() -> list[str]:
    text = (REPO / "README.md").read_text()
    start = text.index("```\n", text.index("On the example above")) + 4
    return text[start : text.index("```", start)].splitlines()


def _cells(line: str) -> list[str]:
    return [c for c in re.split(r"\s{2,}", line.strip()) if c]


def _close(documented: float, measured: float) -> bool:
    return abs(documented - measured) <= 0.1 * max(documented, measured)


@pytest.mark.usefixtures("engine")
def test_readme_fix_verify_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    context = tmp_path / "v1"
    shutil.copytree(REPO / "examples" / "service" / "v1", context)
    assert run(["fix", "--unsafe-fixes", str(context / "Dockerfile")]) == 0
    out = capsys.readouterr().out.splitlines()
    documented = _readme_table()
    measured = out[: len(documented)]
    rows = {_cells(line)[0]: _cells(line) for line in measured[1:-2]}
    for line in documented[1:-2]:
        cells = _cells(line)
        got = rows[cells[0]]  # the same rows, by label
        if cells[0] in ("image size", "wasted bytes"):
            for want, have in zip(cells[1:3], got[1:3], strict=True):
                assert _close(parse_size(want), parse_size(have)), (cells, got)
        elif cells[0] == "layers":
            assert got == cells
        elif cells[0].startswith("rebuild after editing"):
            assert got[0] == cells[0]
            assert _RUN.findall(" ".join(got)) == _RUN.findall(line)
    want_counts, have_counts = _COUNTS.search(documented[-2]), _COUNTS.search(measured[-2])
    assert want_counts is not None and have_counts is not None, measured
    for want, have in zip(want_counts.groups(), have_counts.groups(), strict=True):
        assert _close(int(want), int(have)), (documented[-2], measured[-2])
    assert measured[-1] == documented[-1]
    assert "USER 65534:65534" in (context / "Dockerfile").read_text()  # written: verified
