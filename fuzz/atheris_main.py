"""One atheris (libFuzzer) session on one target; run by `fuzz/run.py` in its own process
because libFuzzer exits the process when it stops.

    python -m fuzz.atheris_main TARGET WORK_DIR [libFuzzer flags...]

Crashes are written as WORK_DIR/artifacts/crash-<sha1>; a line `FUZZ-CRASH <signature>` on
stderr names the bug. Signatures listed in fuzz/known_crashes.txt are counted and skipped
(unless FUZZ_STRICT=1), so one known bug does not stop the search for others.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import atheris

from fuzz import harness


def _dictionary_file(entries: tuple[bytes, ...], work: Path) -> Path:
    path = work / "dictionary.txt"
    lines = ['"' + "".join(f"\\x{byte:02x}" for byte in item) + '"' for item in entries]
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    name, work_dir, *flags = sys.argv[1:]
    work = Path(work_dir)
    corpus = work / "corpus"
    artifacts = work / "artifacts"
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    with atheris.instrument_imports(include=["trimdock"]):
        from fuzz.targets import load

        target = load(name)
    known = set() if os.environ.get("FUZZ_STRICT") == "1" else harness.known_signatures(name)
    skipped: Counter[str] = Counter()

    def test_one(data: bytes) -> None:
        try:
            harness.check(target, data)
        except harness.Crash as crash:
            if crash.signature in known:
                skipped[crash.signature] += 1
                if sum(skipped.values()) in (1, 100, 10_000):
                    print(f"FUZZ-KNOWN {dict(skipped)}", file=sys.stderr, flush=True)
                return
            print(f"FUZZ-CRASH {crash.signature} {crash}", file=sys.stderr, flush=True)
            raise

    seed_dir = harness.CORPUS_DIR / name
    argv = [
        sys.argv[0],
        str(corpus),
        *([str(seed_dir)] if seed_dir.is_dir() else []),
        f"-artifact_prefix={artifacts}/",
        f"-max_len={target.max_len}",
        "-print_final_stats=1",
        *([f"-dict={_dictionary_file(target.dictionary, work)}"] if target.dictionary else []),
        *flags,
    ]
    atheris.Setup(argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
