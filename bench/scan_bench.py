"""Benchmark `trimdock scan` against `trimdock layers` on the same image, in the same run.

    .venv/bin/python bench/scan_bench.py [--runs 3] [--archive FILE] [--image NAME]

The target (issue 12): the inventory reads only the files it needs (package databases,
metadata files, Go build info, credential files), so `scan` takes at most the time `layers`
takes on the same image. Inputs:

* the 1.4 GB benchmark archive of bench/layers_bench.py (built and saved by it, cached in
  $TRIMDOCK_BENCH_CACHE), 132,000 entries;
* a Debian image with packages (default: the security tests' fixture, Debian slim + python3
  + curl + a venv; `--image` names another, e.g. one with 300 Debian packages), saved once,
  and the same image read from the engine (its layer store: `scan` reads it in one pass, as
  `layers` does).

`scan` runs without a vulnerability database (`--db` of an empty folder): loading OSV data is
a fixed cost that does not depend on the image. Both commands verify layer digests. Runs
alternate; medians of wall and CPU time are printed with the ratio scan/layers and the load
average. Not a test: nothing here asserts a time.

trimdock's modules are byte-compiled first (`compileall`), as an installed package is: with
PYTHONDONTWRITEBYTECODE set (as on the development machines) every run would otherwise
compile its modules from source, and `scan` imports twice as many as `layers`.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.layers_bench import CACHE, Sample, measure

BIN = Path(sys.executable).parent


def saved(image: str) -> Path:
    path = CACHE / (image.replace("/", "_").replace(":", "_") + ".tar")
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        subprocess.run(["docker", "save", "-o", str(tmp), image], check=True)
        tmp.rename(path)
    return path


def compare(label: str, source: str, runs: int, empty_db: Path, size: str = "") -> None:
    argvs = {
        "layers": [str(BIN / "trimdock"), "layers", source],
        "scan": [str(BIN / "trimdock"), "scan", source, "--db", str(empty_db)],
    }
    samples: dict[str, list[Sample]] = {name: [] for name in argvs}
    load = os.getloadavg()[0]
    for _ in range(runs):
        for name, argv in argvs.items():
            sample = measure(argv)
            if sample.code != 0:
                raise SystemExit(f"{name} failed on {source} (exit {sample.code})")
            samples[name].append(sample)
    wall = {n: statistics.median(s.seconds for s in v) for n, v in samples.items()}
    cpu = {n: statistics.median(s.cpu_seconds for s in v) for n, v in samples.items()}
    rss = {n: max(s.peak_rss_mb for s in v) for n, v in samples.items()}
    print(f"{label}: {size}{runs} runs, load {load:.1f}")
    for name in argvs:
        print(
            f"  {name:<7} wall {wall[name]:6.2f} s  cpu {cpu[name]:6.2f} s  "
            f"peak {rss[name]:6.1f} MB"
        )
    print(
        f"  scan/layers: wall {wall['scan'] / wall['layers']:.2f}x, "
        f"cpu {cpu['scan'] / cpu['layers']:.2f}x (target <= 1x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--archive", type=Path, default=CACHE / "trimdock-bench_layers_80mb.tar")
    parser.add_argument("--image", default=None, help="A Debian image with packages.")
    args = parser.parse_args()
    import trimdock

    compileall.compile_dir(Path(trimdock.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as empty:
        if args.archive.exists():
            size = f"{args.archive.stat().st_size / 1e9:.2f} GB, "
            compare(
                "benchmark archive", f"docker-archive:{args.archive}", args.runs, Path(empty), size
            )
        else:
            print(f"{args.archive} missing: run bench/layers_bench.py first", file=sys.stderr)
        image = args.image
        if image is None:
            from tests.security.images import pyold_image

            image = pyold_image(Path(empty) / "ctx")
        archive = saved(image)
        size = f"{archive.stat().st_size / 1e9:.2f} GB, "
        compare(f"Debian image {image}", f"docker-archive:{archive}", args.runs, Path(empty), size)
        compare(f"Debian image {image} from the engine", image, args.runs, Path(empty))


if __name__ == "__main__":
    main()
