"""OCI layouts, oci-archives and Engine >= 25 archives give the same image as the legacy save."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from trimdock.image.open import open_image
from trimdock.image.streams import Compression

from .conftest import BuiltImage, OciForms
from .craft import tar_directory
from .snapshot import snapshot


@pytest.fixture(scope="module")
def legacy(basic_image: BuiltImage) -> dict[str, object]:
    with open_image(f"docker-archive:{basic_image.archive}") as image:
        return snapshot(image)


@pytest.mark.parametrize(
    ("form", "source", "compression"),
    [
        ("gzip_dir", "oci", Compression.GZIP),
        ("zstd_dir", "oci", Compression.ZSTD),
        ("oci_archive", "oci-archive", Compression.GZIP),
        ("engine25_archive", "docker-archive", Compression.NONE),
    ],
)
def test_every_form_gives_the_same_image(
    oci_forms: OciForms,
    legacy: dict[str, object],
    form: str,
    source: str,
    compression: Compression,
) -> None:
    with open_image(getattr(oci_forms, form)) as image:
        assert image.source == source
        assert snapshot(image) == legacy
        assert {layer.content.compression for layer in image.layers} == {compression}  # type: ignore[attr-defined]
        assert all(layer.blob_digest and layer.blob_size for layer in image.layers)


def test_engine25_archive_reads_the_oci_index(oci_forms: OciForms, basic_image: BuiltImage) -> None:
    with open_image(f"docker-archive:{oci_forms.engine25_archive}") as image:
        assert image.repo_tags == (basic_image.tag,)
        # Layers come from blobs/ (stored under their DiffID), not from legacy folders.
        assert all(layer.blob_digest == layer.diff_id for layer in image.layers)
        assert [layer.size for layer in image.layers] == [
            layer.size for layer in _legacy_layers(basic_image)
        ]


def _legacy_layers(basic_image: BuiltImage) -> tuple:  # type: ignore[type-arg]
    with open_image(f"docker-archive:{basic_image.archive}") as image:
        return image.layers


def _rewrite(archive: Path, out: Path, **replace: bytes) -> Path:
    """A copy of a tar archive with some members' bytes replaced."""
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for info in src:
            data = replace.get(info.name)
            if data is None:
                fileobj = src.extractfile(info) if info.isreg() else None
                dst.addfile(info, fileobj)
            else:
                info.size = len(data)
                import io

                dst.addfile(info, io.BytesIO(data))
    return out


def test_engine25_null_manifests_falls_back_to_manifest_json(
    oci_forms: OciForms, legacy: dict[str, object], tmp_path: Path
) -> None:
    broken = _rewrite(
        Path(oci_forms.engine25_archive),
        tmp_path / "null.tar",
        **{"index.json": b'{"schemaVersion":2,"manifests":null}'},
    )
    with open_image(str(broken)) as image:
        assert snapshot(image) == legacy


def test_engine25_zero_layer_manifest_falls_back_to_manifest_json(
    oci_forms: OciForms, legacy: dict[str, object], tmp_path: Path
) -> None:
    root = Path(oci_forms.engine25_archive)
    with tarfile.open(root) as tar:
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
        digest = index["manifests"][0]["digest"]
        manifest = json.loads(tar.extractfile(f"blobs/sha256/{digest[7:]}").read())  # type: ignore[union-attr]
    manifest["layers"] = []
    empty = json.dumps(manifest).encode()
    import hashlib

    empty_digest = "sha256:" + hashlib.sha256(empty).hexdigest()
    index["manifests"][0].update(digest=empty_digest, size=len(empty))
    extract = tmp_path / "tree"
    with tarfile.open(root) as tar:
        tar.extractall(extract, filter="data")
    (extract / "blobs" / "sha256" / empty_digest[7:]).write_bytes(empty)
    (extract / "index.json").write_text(json.dumps(index))
    archive = tar_directory(extract, tmp_path / "zero.tar")
    with open_image(f"docker-archive:{archive}") as image:
        assert snapshot(image) == legacy
