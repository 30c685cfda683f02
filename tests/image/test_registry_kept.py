"""A registry image is downloaded once: the download that reads a layer's headers keeps what
`layers`' reclaim analysis (package database files, duplicate digests) and `scan` (its
`BodyRequest`) read, and the per-layer cache keeps it for later runs. Counted with the blob
requests a proxy in front of a real loopback registry sees; the reports equal the engine's own
saved archive's."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.engine import build_image, save_image
from tests.support.registry import Proxy, Registry, proxy, registry
from trimdock.cli.main import run
from trimdock.image.keptcache import KEPT

pytestmark = pytest.mark.engine


def _debian_context(root: Path) -> Path:
    """Debian slim (dpkg database: reclaim reads it, so does the inventory) plus a layer with a
    duplicate of a big file, a Python package's METADATA and credentials deleted by a later
    layer (`scan` reads them all)."""
    context = root / "debian"
    site = context / "app/lib/site-packages/six-1.10.0.dist-info"
    site.mkdir(parents=True)
    (site / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: six\nVersion: 1.10.0\nLicense: MIT\n"
    )
    (context / "app/.netrc").write_text("machine git.example login ci password Zx9qLm3Rt7Vb2Nc8\n")
    (context / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\n"
        "COPY app/ /app/\n"
        "RUN cp /usr/bin/bash /usr/local/bin/bash-copy && rm /app/.netrc\n"
    )
    return context


@pytest.fixture(scope="module")
def served(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with registry(tmp_path_factory.mktemp("registry")) as running:
        yield running


@pytest.fixture(scope="module")
def debian(served: Registry, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tag = build_image("image-registry-debian", _debian_context(tmp_path_factory.mktemp("ctx")))
    return {
        "remote": served.push(f"docker-daemon:{tag}", "td/debian:1"),
        "archive": f"docker-archive:{save_image(tag)}",
    }


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    code = run([*args, "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    document: dict[str, Any] = json.loads(captured.out)
    return document


def _layers(capsys: pytest.CaptureFixture[str], reference: str) -> dict[str, Any]:
    """Everything `layers` computed (the image's identity and the tar sizes aside: the registry
    holds gzip layers, whose tar size is only known once read)."""
    document = _json(capsys, "layers", reference, "--insecure")
    assert "reclaim" in document  # the analysis that reads the package database ran
    result = {key: value for key, value in document.items() if key != "image"}
    result["layers"] = [
        {k: v for k, v in layer.items() if k != "tar_bytes"} for layer in document["layers"]
    ]
    return result


def _scan(capsys: pytest.CaptureFixture[str], reference: str) -> dict[str, Any]:
    """`scan`'s report, the image's identity aside (reference, source, sizes)."""
    document = _json(capsys, "scan", reference, "--insecure")
    return {key: value for key, value in document.items() if key != "image"}


def _blobs(watched: Proxy) -> Counter[str]:
    """The blob requests since the last call, by path."""
    found = Counter(path for path in watched.requests if "/blobs/" in path)
    watched.requests.clear()
    return found


@pytest.fixture
def watched(served: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Proxy]:
    """A proxy counting blob requests, and an empty cache folder."""
    monkeypatch.setenv("TRIMDOCK_CACHE_DIR", str(tmp_path / "cache"))
    with proxy(served.host, lambda path: None) as counting:
        yield counting


def _through(watched: Proxy, served: Registry, reference: str) -> str:
    return reference.replace(served.host, watched.host)


def test_layers_downloads_each_layer_once_then_nothing_and_scan_after_it_once_more(
    served: Registry,
    debian: dict[str, str],
    watched: Proxy,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reference = _through(watched, served, debian["remote"])
    first = _layers(capsys, reference)
    downloads = _blobs(watched)
    # The config and each layer, once each: reclaim's reads came from the header download.
    assert len(downloads) == 1 + len(first["layers"])
    assert set(downloads.values()) == {1}
    assert _layers(capsys, reference) == first
    assert _blobs(watched) == Counter()
    assert first == _layers(capsys, debian["archive"])
    # `layers` kept nothing for `scan`'s request: the layers holding files scan reads are
    # downloaded once more (once each), then cached; a later scan and layers download nothing.
    scanned = _scan(capsys, reference)
    assert set(_blobs(watched).values()) <= {1}
    assert _scan(capsys, reference) == scanned
    assert _layers(capsys, reference) == first
    assert _blobs(watched) == Counter()


def test_scan_downloads_each_layer_once_then_nothing_and_equals_the_archive(
    served: Registry,
    debian: dict[str, str],
    watched: Proxy,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reference = _through(watched, served, debian["remote"])
    first = _scan(capsys, reference)
    downloads = _blobs(watched)
    layers = _layers(capsys, reference)  # no blob: the scan's download kept reclaim's too
    assert _blobs(watched) == Counter()
    assert len(downloads) == 1 + len(layers["layers"])
    assert set(downloads.values()) == {1}
    assert _scan(capsys, reference) == first
    assert _blobs(watched) == Counter()
    # The findings name the image they are in: the same report once the names agree.
    archive = json.dumps(_scan(capsys, debian["archive"])).replace(debian["archive"], reference)
    assert first == json.loads(archive)
    kinds = {package["ecosystem"] for package in first["packages"]}
    assert {"Debian", "PyPI"} <= kinds
    assert any(secret.get("deleted") for secret in first["secrets"]), first["secrets"]


def test_without_the_cache_each_run_downloads_each_layer_once(
    served: Registry,
    debian: dict[str, str],
    watched: Proxy,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIMDOCK_CACHE_MAX", "0")
    reference = _through(watched, served, debian["remote"])
    for analyse in (_layers, _scan):
        for _ in range(2):
            analyse(capsys, reference)
            downloads = _blobs(watched)
            assert set(downloads.values()) == {1}, downloads


def test_a_cached_layer_whose_kept_data_is_gone_is_downloaded_once_more(
    served: Registry,
    debian: dict[str, str],
    watched: Proxy,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    reference = _through(watched, served, debian["remote"])
    first = _layers(capsys, reference)
    _blobs(watched)
    kept = tmp_path / "cache" / "v1" / KEPT
    assert any(kept.iterdir())  # the layers' bodies and digests were cached beside the headers
    shutil.rmtree(kept)  # as LRU eviction may leave it: headers cached, kept data gone
    assert _layers(capsys, reference) == first
    downloads = _blobs(watched)
    assert downloads and set(downloads.values()) == {1}  # only layers reclaim reads, once
    assert _layers(capsys, reference) == first
    assert _blobs(watched) == Counter()
