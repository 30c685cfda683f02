"""`layers NAME` read from the engine's overlay2 layer store equals the `docker save` path.

Every analysis of the command (the report, --deleted, --at N, --export, --extract) on every
fixture image of tests/layers is run both ways (TRIMDOCK_ENGINE_READER=store / save) and the
JSON outputs, exported trees and extracted bytes are compared; the store way also with its
headers from the per-layer cache. The save stream is the oracle: it is the engine's own
serialisation of the image.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.engine import build_image, docker
from trimdock.cli.main import run
from trimdock.image.open import open_image

from .test_engine import CASES, FIXTURES, many_layers_dockerfile

pytestmark = pytest.mark.engine

TRIMDOCK = Path(sys.executable).parent / "trimdock"


@pytest.fixture(scope="module")
def images(engine: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tags = {name: build_image(f"layers-{name}", FIXTURES / name) for name in CASES}
    context = tmp_path_factory.mktemp("many")
    (context / "Dockerfile").write_text(many_layers_dockerfile()[0])
    tags["many_layers"] = build_image("layers-many", context)
    tags["debian"] = "debian:bookworm-slim"  # imported by GNU tar: its own order, hard links
    return tags


def layers_json(
    reader: str,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    cache: str = "0",
) -> object:
    """`layers ARGS --format json` read one way; the per-layer cache is off unless `cache`."""
    monkeypatch.setenv("TRIMDOCK_ENGINE_READER", reader)
    monkeypatch.setenv("TRIMDOCK_CACHE_MAX", cache)
    capsys.readouterr()
    code = run(["layers", *args, "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""  # no fallback note: this machine can read the store
    return json.loads(captured.out)


ANALYSES = [[], ["--deleted"], ["--at", "0"], ["--at", "1"], ["--at", "-1"], ["--top", "0"]]


@pytest.mark.parametrize("name", [*sorted(CASES), "many_layers", "debian"])
def test_every_analysis_equals_the_save_path(
    images: dict[str, str],
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for extra in ANALYSES:
        if extra[:2] == ["--at", "1"] and name == "debian":
            continue  # a single layer
        args = [images[name], *extra]
        saved = layers_json("save", args, monkeypatch, capsys)
        assert layers_json("store", args, monkeypatch, capsys) == saved, extra
        # Headers from the per-layer cache (filled by the first run) give the same again.
        for _ in range(2):
            assert layers_json("store", args, monkeypatch, capsys, cache="50MB") == saved, extra


def tree(root: Path) -> dict[str, tuple[str, int, bytes | str]]:
    """Every path under `root` with its kind, permission bits and content or link target."""
    found: dict[str, tuple[str, int, bytes | str]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        mode = path.lstat().st_mode & 0o7777
        if path.is_symlink():
            found[rel] = ("symlink", mode, os.readlink(path))
        elif path.is_dir():
            found[rel] = ("dir", mode, b"")
        else:
            found[rel] = ("file", mode, path.read_bytes())
    return found


@pytest.mark.parametrize("name", ["delete_dir", "hardlinks", "opaque", "symlinks", "chmod"])
def test_file_bodies_come_from_the_layer_folders(
    images: dict[str, str], name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = {}
    for reader in ("store", "save"):
        monkeypatch.setenv("TRIMDOCK_ENGINE_READER", reader)
        for at in ("1", "-1"):
            target = tmp_path / f"{reader}{at}"
            assert run(["layers", images[name], "--at", at, "--export", str(target), "-q"]) == 0
            exported[reader, at] = tree(target)
    assert exported["store", "1"] == exported["save", "1"]
    assert exported["store", "-1"] == exported["save", "-1"]
    assert exported["store", "1"]  # not two empty trees


def test_extract_reads_one_body(
    images: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIMDOCK_ENGINE_READER", "store")
    tag = images["delete_dir"]
    assert run(["layers", tag, "--extract", "/d/sub/c", "--to", str(tmp_path), "-q"]) == 0
    assert (tmp_path / "c").read_bytes() == b"\0" * 30_000


def test_the_store_reader_gives_the_engine_figures(images: dict[str, str]) -> None:
    tag = images["many_layers"]
    inspect = json.loads(docker("image", "inspect", tag))[0]
    with open_image(tag) as image:
        assert type(image.layers[0].content).__name__ == "_StoreLayer"
        assert image.config_digest == inspect["Id"]
        assert [layer.diff_id for layer in image.layers] == inspect["RootFS"]["Layers"]
        assert image.repo_tags == (tag,)


# -- falling back to the save stream ----------------------------------------------------------


@pytest.fixture
def tcp_engine() -> Iterator[str]:
    """The local engine reached over TCP (a forwarder to its socket): a "remote" engine."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(1 << 16):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect("/var/run/docker.sock")
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    server.close()


def test_a_remote_engine_is_read_through_save_with_a_note(
    images: dict[str, str],
    tcp_engine: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tag = images["opaque"]
    local = layers_json("auto", [tag], monkeypatch, capsys)
    monkeypatch.setenv("DOCKER_HOST", tcp_engine)
    capsys.readouterr()
    assert run(["layers", tag, "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == local
    assert captured.err == (
        f"trimdock: note: {tag}: reading the image through docker save: "
        f"the engine is reached over the network ({tcp_engine}), not a local socket\n"
    )
    monkeypatch.setenv("TRIMDOCK_ENGINE_READER", "store")
    assert run(["layers", tag]) == 2
    assert capsys.readouterr().err == (
        f"trimdock: {tag}: cannot read the engine's layer store: "
        f"the engine is reached over the network ({tcp_engine}), not a local socket\n"
    )


def test_an_unreadable_data_root_falls_back_to_save(images: dict[str, str]) -> None:
    # A member of the docker group who is not root: the socket answers, the data root does not.
    tag = images["opaque"]
    docker_gid = grp.getgrnam("docker").gr_gid
    env = {**os.environ, "HOME": "/tmp", "TRIMDOCK_ENGINE_READER": "auto"}
    command = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        f"--groups={docker_gid}",
        str(TRIMDOCK),
        "layers",
        tag,
        "--format",
        "json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if "Permission denied" in done.stderr and "python" in done.stderr.lower():
        pytest.skip("the virtual environment is not readable by nobody")
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(f"trimdock: note: {tag}: reading the image through docker save: ")
    assert "is not readable here" in done.stderr and done.stderr.count("\n") == 1
    root = subprocess.run(
        [str(TRIMDOCK), "layers", tag, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "TRIMDOCK_ENGINE_READER": "store"},
    )
    assert json.loads(done.stdout) == json.loads(root.stdout)


def test_bad_reader_setting_is_a_usage_error(
    images: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRIMDOCK_ENGINE_READER", "fast")
    assert run(["layers", images["opaque"]]) == 2
    assert capsys.readouterr().err == (
        "trimdock: TRIMDOCK_ENGINE_READER: expected one of auto, store, save, got 'fast'\n"
    )


def test_why_the_store_cannot_be_read(engine: None, tmp_path: Path) -> None:
    from trimdock.engine.client import EngineClient
    from trimdock.image.layerstore import store_unavailable

    client = EngineClient.connect()
    try:
        data_root, driver = client.storage()
        assert store_unavailable(client, data_root, driver) is None  # this machine: readable
        assert store_unavailable(client, data_root, "btrfs") == (
            "the engine's storage driver is btrfs, not overlay2"
        )
        assert "is not readable here" in (store_unavailable(client, tmp_path, driver) or "")
    finally:
        client.close()
