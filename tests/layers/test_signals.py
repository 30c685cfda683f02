"""A real SIGINT/SIGTERM to `python -m trimdock layers` mid-decompression and mid-export leaves no
temporary file and no partial output (issue 8, item 4).

The inputs are small on disk but large once expanded (gzip members of zeros, concatenated), so
each phase lasts long enough to be caught; the test polls until the phase is visibly running,
then signals.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.image.craft import Layout
from tests.image.hostile import docker_archive, end, header
from tests.support.signals import as_foreground_job

ZEROS = 64 << 20
COPIES = 48  # 3 GiB expanded: several seconds of work, stopped after a fraction of one
EXPORT_COPIES = 12  # 768 MiB
POLL_LIMIT = 20.0  # seconds; only reached when the phase never starts (a failure anyway)


@functools.cache
def zeros_member() -> bytes:
    return gzip.compress(bytes(ZEROS), compresslevel=1, mtime=0)


def big_gzip_tar(name: bytes, copies: int = COPIES) -> bytes:
    """A gzip stream of a tar holding one file of `copies` * ZEROS zero bytes."""
    size = copies * ZEROS
    member = zeros_member()
    return gzip.compress(header(name, size=size), mtime=0) + member * copies + gzip.compress(end())


def start(args: list[str], tmpdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    return subprocess.Popen(
        [sys.executable, "-m", "trimdock", "layers", *args],
        env=env,
        preexec_fn=as_foreground_job,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until(process: subprocess.Popen[bytes], ready: object) -> None:
    deadline = time.monotonic() + POLL_LIMIT
    while time.monotonic() < deadline:
        assert process.poll() is None, "finished before it could be interrupted"
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.01)
    process.kill()
    pytest.fail("the phase never started")


def open_in(pid: int, folder: Path) -> bool:
    """Whether the process holds an anonymous temporary file of `folder` open (the spool; not
    the short-lived probe file `tempfile.gettempdir` writes first)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith(str(folder)) and target.endswith("(deleted)"):
                return True
        except OSError:
            continue
    return False


def finish(process: subprocess.Popen[bytes], sig: signal.Signals) -> int:
    process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("did not stop after the signal")
    return process.returncode


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_decompression_leaves_nothing(tmp_path: Path, sig: signal.Signals) -> None:
    archive = tmp_path / "image.tar.gz"
    archive.write_bytes(big_gzip_tar(b"0" * 64 + b"/layer.tar"))
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    process = start([f"docker-archive:{archive}"], tmpdir)
    wait_until(process, lambda: open_in(process.pid, tmpdir))
    code = finish(process, sig)
    assert code == (130 if sig is signal.SIGINT else 143)
    assert list(tmpdir.iterdir()) == []


def layout_with_big_layer(root: Path) -> Path:
    layout = Layout(root)
    # The header pass decompresses the whole layer before the export starts writing: fewer
    # copies keep it short, and writing them still takes long enough to be interrupted.
    blob = layout.blob(big_gzip_tar(b"big", EXPORT_COPIES))
    # --no-verify: the DiffID is never compared, so it need not be computed here.
    config = layout.blob(
        json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]},
                "history": [{"created_by": "big"}],
            }
        ).encode()
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **blob}],
    }
    layout.index(
        [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **layout.blob(json.dumps(manifest).encode()),
            }
        ]
    )
    return root


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_export_leaves_no_partial_output(
    tmp_path: Path, sig: signal.Signals
) -> None:
    layout = layout_with_big_layer(tmp_path / "layout")
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    out = tmp_path / "out"
    args = [f"oci:{layout}", "--no-verify", "--at", "0", "--export", str(out)]
    process = start(args, tmpdir)

    def writing() -> bool:
        return any((staging / "big").exists() for staging in tmp_path.glob(".out.*.tmp"))

    wait_until(process, writing)
    code = finish(process, sig)
    assert code == (130 if sig is signal.SIGINT else 143)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layout", "tmpdir"]
    assert list(tmpdir.iterdir()) == []


def test_the_crafted_archive_is_valid(tmp_path: Path) -> None:
    # The same shape, small: what the signal tests interrupt is a readable archive.
    path = docker_archive(tmp_path / "x.tar", [header(b"f") + end()])
    assert path.stat().st_size > 0
