"""How big the HTML layer report of the large bench image is, and how fast a browser shows it.

    .venv/bin/python bench/html_bench.py [--runs 3]

Uses the image of bench/layers_bench.py (built and saved there, about 137,000 tar entries).
Writes `trimdock layers --format html` of its archive, then loads the page in headless chromium
`--runs` times: the page records the milliseconds from navigation start to a drawn treemap
(`data-ready-ms`). The peer is the same browser loading a blank page in the same run: the
ratio says how much the report adds to what opening any file costs.

Not a test: nothing here asserts a time. Targets (issue 14): under 10 MB, under 3 s.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.layers_bench import build, save  # noqa: E402
from tests.html.browser import FLAGS, chromium  # noqa: E402

BIN = Path(sys.executable).parent


def load(page: Path) -> tuple[float, int | None]:
    """(wall seconds of a headless load and DOM dump, the page's own ready time in ms)."""
    with tempfile.TemporaryDirectory(prefix="trimdock-bench-") as profile:
        started = time.monotonic()
        result = subprocess.run(
            [
                chromium(),
                *FLAGS,
                f"--user-data-dir={profile}",
                "--window-size=1280,1800",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.monotonic() - started
    found = re.search(r'data-ready-ms="(\d+)"', result.stdout)
    return wall, int(found.group(1)) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tag = "trimdock-bench/layers:80mb"
    build(tag, 80)
    archive = save(tag)
    with tempfile.TemporaryDirectory(prefix="trimdock-bench-") as tmp:
        page = Path(tmp) / "report.html"
        blank = Path(tmp) / "blank.html"
        blank.write_text("<!DOCTYPE html><title>blank</title>\n")
        started = time.monotonic()
        subprocess.run(
            [
                str(BIN / "trimdock"),
                "layers",
                f"docker-archive:{archive}",
                "--format",
                "html",
                "--output",
                str(page),
            ],
            check=True,
        )
        print(
            f"report written in {time.monotonic() - started:.1f} s: "
            f"{page.stat().st_size / 1e6:.2f} MB (target < 10 MB)"
        )
        every = Path(tmp) / "report-top0.html"
        subprocess.run(
            [
                str(BIN / "trimdock"),
                "layers",
                f"docker-archive:{archive}",
                "--format",
                "html",
                "--top",
                "0",
                "--output",
                str(every),
            ],
            check=True,
        )
        print(f"with --top 0 (every wasted path asked for): {every.stat().st_size / 1e6:.2f} MB")
        report, peer, ready = [], [], []
        for _ in range(args.runs):
            wall, ms = load(page)
            report.append(wall)
            if ms is not None:
                ready.append(ms)
            peer.append(load(blank)[0])
        median, base = statistics.median(report), statistics.median(peer)
        print(
            f"chromium load + DOM dump: report {median:.2f} s, blank page {base:.2f} s, "
            f"ratio {median / base:.2f} (median of {args.runs})"
        )
        if ready:
            print(
                f"treemap drawn {statistics.median(ready) / 1000:.2f} s after navigation "
                f"start (target < 3 s)"
            )


if __name__ == "__main__":
    main()
