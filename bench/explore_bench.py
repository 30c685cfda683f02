"""How fast `trimdock explore` opens the large bench image, beside dive on the same archive.

    .venv/bin/python bench/explore_bench.py [--runs 3]

Uses the image of bench/layers_bench.py (about 137,000 tar entries, 93,000 visible files).
Per run, in this process: the analysis (`load_model`: one pass over the layers, the model of
every file version), then Textual's headless pilot until the main view is drawn, a switch to
the previous layer, and the waste view. The peer is `dive --ci` on the same archive (its
analysis; its UI opens only after it), in the same run.

Measured on the 2-core shared machine at a load of about 8: the first view takes 0.21-0.23 s of
CPU (0.6-0.8 s wall), of which about 0.17 s is Textual's own start (a 10-file image takes that
too); the directory figures of the whole image take about 10 ms.

Not a test: nothing here asserts a time. Target (issue 14): the view opens in under a second
once the analysis is done.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.layers_bench import build, save  # noqa: E402
from trimdock.cli.explore import load_model  # noqa: E402
from trimdock.ui.app import ExploreApp  # noqa: E402

BIN = Path(sys.executable).parent


def once(archive: Path) -> dict[str, float]:
    started = time.monotonic()
    model = load_model(f"docker-archive:{archive}", verify=False)
    loaded = time.monotonic()
    loaded_cpu = time.process_time()
    times = {"analysis + model": loaded - started}

    async def drive() -> None:
        app = ExploreApp(model)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            times["first view"] = time.monotonic() - loaded
            # CPU seconds too: on a loaded machine the wall clock mostly measures the queue.
            times["first view (cpu)"] = time.process_time() - loaded_cpu
            for label, key in (("previous layer", "up"), ("waste view", "w")):
                began = time.monotonic()
                await pilot.press(key)
                await pilot.pause()
                times[label] = time.monotonic() - began

    asyncio.run(drive())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tag = "trimdock-bench/layers:80mb"
    build(tag, 80)
    archive = save(tag)
    samples: dict[str, list[float]] = {}
    dive: list[float] = []
    for _ in range(args.runs):
        for key, value in once(archive).items():
            samples.setdefault(key, []).append(value)
        began = time.monotonic()
        subprocess.run(
            [str(BIN / "dive"), "--ci", "--source", "docker-archive", str(archive)],
            capture_output=True,
            check=False,
        )
        dive.append(time.monotonic() - began)
    for key, values in samples.items():
        print(f"{key:>18}: {statistics.median(values):6.2f} s (median of {args.runs})")
    ready = statistics.median(
        [a + b for a, b in zip(samples["analysis + model"], samples["first view"], strict=True)]
    )
    peer = statistics.median(dive)
    print(f"explore ready {ready:.2f} s, dive --ci {peer:.2f} s, ratio {ready / peer:.2f}")


if __name__ == "__main__":
    main()
