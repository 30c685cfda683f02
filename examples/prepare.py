#!/usr/bin/env python3
"""Generate the large, deterministic inputs of the example projects (kept out of git).

- build-context/vN/docs/: about 4 MB of manual pages the app never needs.
- archive/vN/sdk.tar.gz: an "SDK" whose extracted size (~60 MB of samples and docs) dwarfs the
  one small tool the image needs; it compresses well, as real SDK archives of text do.
Re-running is cheap: existing outputs of the right content are left alone.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORDS = ("layer", "image", "cache", "build", "context", "copy", "run", "stage", "slim", "docs")


def text_block(rng: random.Random, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        line = " ".join(rng.choice(WORDS) for _ in range(12)) + f" {rng.getrandbits(64):x}\n"
        out += line.encode()
    return bytes(out[:size])


def write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def make_docs(target: Path) -> None:
    rng = random.Random(1)
    for index in range(40):
        write_if_changed(target / f"manual-{index:02d}.txt", text_block(rng, 100_000))


def make_sdk_archive() -> bytes:
    rng = random.Random(2)
    buffer = io.BytesIO()
    # mtime=0 in the gzip header keeps the archive byte-identical across runs.
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):

        def add(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))

        add("sdk/bin/sdk-tool", b"#!/bin/sh\necho 'sdk-tool 1.0: ready'\n", 0o755)
        for index in range(60):
            # Long runs of repeated lines: a 60 MB tree in a ~1 MB archive.
            add(f"sdk/samples/sample-{index:02d}.txt", text_block(rng, 4_000) * 250)
    return buffer.getvalue()


def main() -> None:
    for variant in ("v1", "v2", "v3"):
        make_docs(HERE / "build-context" / variant / "docs")
    archive = make_sdk_archive()
    for variant in ("v1", "v2", "v3"):
        write_if_changed(HERE / "archive" / variant / "sdk.tar.gz", archive)
    digest = hashlib.sha256(archive).hexdigest()[:12]
    print(f"examples ready (sdk.tar.gz {len(archive)} bytes, sha256 {digest})")


if __name__ == "__main__":
    main()
