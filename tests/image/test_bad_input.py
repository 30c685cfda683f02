"""Hostile and broken inputs: one clear `ImageSourceError` naming the input and the problem."""

from __future__ import annotations

import gzip
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from trimdock.errors import ImageSourceError, TrimdockError
from trimdock.image.model import EntryType, Image
from trimdock.image.oci import DEFAULT_PLATFORM, host_platform
from trimdock.image.open import open_image
from trimdock.image.tarentry import is_unsafe_path, normalise_path, unsafe_reason

from .conftest import BuiltImage
from .craft import Layout, config_json, layer_tar, sha, tar_directory

SIMPLE = [("etc", None, "dir"), ("etc/hello", b"hello\n", "file")]


def read_all(image: Image) -> None:
    for layer in image.layers:
        list(layer.content.entries())


def fails(reference: str, pattern: str, **options: str) -> ImageSourceError:
    with (
        pytest.raises(ImageSourceError, match=pattern) as caught,
        open_image(reference, **options) as image,  # type: ignore[arg-type]
    ):
        read_all(image)
    message = str(caught.value)
    assert message.startswith(reference + ": ") and "\n" not in message
    return caught.value


def layout_with(tmp_path: Path, tars: list[bytes], **kw: bool) -> tuple[Layout, dict]:  # type: ignore[type-arg]
    layout = Layout(tmp_path / "layout")
    descriptor = layout.image(tars, **kw)
    layout.index([descriptor])
    return layout, descriptor


def manifest_of(layout: Layout, descriptor: dict) -> dict:  # type: ignore[type-arg]
    return json.loads(layout.blob_path(descriptor["digest"]).read_bytes())


def replace_manifest(layout: Layout, manifest: dict | bytes) -> None:  # type: ignore[type-arg]
    data = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    layout.index([{"mediaType": "application/vnd.oci.image.manifest.v1+json", **layout.blob(data)}])


# -- archives -------------------------------------------------------------------------------------


def test_truncated_archive(basic_image: BuiltImage, tmp_path: Path) -> None:
    data = basic_image.archive.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) // 2])
    fails(f"docker-archive:{cut}", "truncated")


def test_not_an_archive(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar file at all" * 40)
    fails(str(junk), "not a tar archive")


def test_missing_file() -> None:
    fails("docker-archive:/nonexistent/image.tar", "no such file")


def test_changed_layer_bytes_are_a_diffid_mismatch(basic_image: BuiltImage, tmp_path: Path) -> None:
    # Layer 3 (the first `COPY files/two.txt /same.txt`) is tampered with inside the archive; the
    # expected DiffID is the engine's own, so nothing here depends on this machine's digests.
    data = bytearray(basic_image.archive.read_bytes())
    with tarfile.open(basic_image.archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        member = outer.getmember(manifest[0]["Layers"][3])
    start = member.offset_data
    at = data.index(b"two two\n", start, start + member.size)
    data[at : at + 8] = b"TWO TWO\n"
    tampered = tmp_path / "tampered.tar"
    tampered.write_bytes(bytes(data))
    expected = basic_image.inspect["RootFS"]["Layers"][3][:19]
    error = fails(f"docker-archive:{tampered}", rf"layer 3 \({expected}\): DiffID mismatch")
    assert f"expected {expected}" in str(error)
    # verify=False trusts the archive: headers are read with seeks, nothing is hashed.
    with open_image(f"docker-archive:{tampered}", verify=False) as image:
        read_all(image)


def test_non_json_manifest_json(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "manifest.json").write_text("[{not json")
    archive = tar_directory(root, tmp_path / "bad.tar")
    fails(f"docker-archive:{archive}", "manifest.json is not valid JSON")


def test_compressed_outer_archive_is_read(basic_image: BuiltImage, tmp_path: Path) -> None:
    packed = tmp_path / "image.tar.gz"
    packed.write_bytes(gzip.compress(basic_image.archive.read_bytes(), compresslevel=1))
    with open_image(str(packed)) as image:
        assert [layer.diff_id for layer in image.layers] == basic_image.inspect["RootFS"]["Layers"]
        read_all(image)


# -- OCI layouts ----------------------------------------------------------------------------------


def test_corrupt_gzip_layer(tmp_path: Path) -> None:
    layout, descriptor = layout_with(tmp_path, [layer_tar(SIMPLE)])
    manifest = manifest_of(layout, descriptor)
    good = layout.blob_path(manifest["layers"][0]["digest"]).read_bytes()
    corrupt = good[:10] + bytes(b ^ 0xFF for b in good[10:30]) + good[30:]
    manifest["layers"][0].update(layout.blob(corrupt))
    replace_manifest(layout, manifest)
    fails(f"oci:{layout.root}", r"layer 0 \(sha256:[0-9a-f]{12}\): corrupt or truncated layer")


def test_blob_digest_mismatch(tmp_path: Path) -> None:
    layout, descriptor = layout_with(tmp_path, [layer_tar(SIMPLE)])
    manifest = manifest_of(layout, descriptor)
    layer = manifest["layers"][0]
    # Same tar (DiffID still right), other gzip bytes: only the stored digest can tell.
    other = gzip.compress(layer_tar(SIMPLE), compresslevel=1, mtime=1)
    layout.blob_path(layer["digest"]).write_bytes(other)
    layer["size"] = len(other)
    replace_manifest(layout, manifest)
    fails(f"oci:{layout.root}", r"layer 0 \(sha256:[0-9a-f]{12}\): blob digest mismatch")


def test_wrong_diff_id_in_config(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout")
    tar = layer_tar(SIMPLE)
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar", **layout.blob(tar)}
    config = layout.blob(config_json([sha(b"something else")]))
    manifest = {"schemaVersion": 2, "config": config, "layers": [layer]}
    replace_manifest(layout, manifest)
    fails(f"oci:{layout.root}", "DiffID mismatch")


def test_missing_blob(tmp_path: Path) -> None:
    layout, descriptor = layout_with(tmp_path, [layer_tar(SIMPLE)])
    digest = manifest_of(layout, descriptor)["layers"][0]["digest"]
    layout.blob_path(digest).unlink()
    fails(f"oci:{layout.root}", f"missing blob {digest} \\(layer 0\\)")


def test_truncated_blob(tmp_path: Path) -> None:
    layout, descriptor = layout_with(tmp_path, [layer_tar(SIMPLE)])
    path = layout.blob_path(manifest_of(layout, descriptor)["layers"][0]["digest"])
    path.write_bytes(path.read_bytes()[:-20])
    fails(f"oci:{layout.root}", "truncated or replaced")


def test_schema1_manifest_is_refused(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout")
    schema1 = {"schemaVersion": 1, "name": "x", "tag": "1", "fsLayers": [], "history": []}
    replace_manifest(layout, schema1)
    fails(f"oci:{layout.root}", "schema 1 manifests are not supported")


def test_schema1_media_type_is_refused(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout")
    blob = layout.blob(b"{}")
    media = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    layout.index([{"mediaType": media, **blob}])
    fails(f"oci:{layout.root}", "schema 1")


def test_non_json_manifest(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout")
    replace_manifest(layout, b"<html>not a manifest</html>")
    fails(f"oci:{layout.root}", "is not valid JSON")


def test_digest_cannot_escape_the_layout(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout")
    layout.index([{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                   "digest": "sha256:../../../etc/passwd", "size": 1}])  # fmt: skip
    fails(f"oci:{layout.root}", "invalid or unsupported digest")


def test_not_a_layout(tmp_path: Path) -> None:
    fails(f"oci:{tmp_path}", "not an OCI image layout")


# -- platforms ------------------------------------------------------------------------------------


def multi_platform(tmp_path: Path) -> Layout:
    """A nested index (like a registry's) with amd64, arm64 and a BuildKit attestation."""
    layout = Layout(tmp_path / "multi")
    amd = layout.image([layer_tar([("amd64", b"x", "file")])], arch="amd64")
    arm = layout.image([layer_tar([("arm64", b"y", "file")])], arch="arm64")
    attestation = {
        **layout.image([b"{}"], arch="unknown"),
        "platform": {"os": "unknown", "architecture": "unknown"},
        "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
    }
    nested = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [arm, amd, attestation],
    }
    index = {"mediaType": "application/vnd.oci.image.index.v1+json"}
    index.update(layout.blob(json.dumps(nested).encode()))  # type: ignore[arg-type]
    layout.index([{**index, "annotations": {"org.opencontainers.image.ref.name": "multi"}}])
    return layout


def first_path(reference: str, platform: str | None = None) -> str:
    with open_image(reference, platform=platform) as image:
        return next(image.layers[0].content.entries()).path


def test_platform_default_is_the_host_or_amd64(tmp_path: Path) -> None:
    layout = multi_platform(tmp_path)
    expected = "arm64" if host_platform().architecture == "arm64" else "amd64"
    assert DEFAULT_PLATFORM.architecture == "amd64"
    assert first_path(f"oci:{layout.root}") == expected
    assert first_path(f"oci:{layout.root}:multi", "linux/arm64") == "arm64"
    assert first_path(f"oci:{layout.root}", "linux/amd64") == "amd64"


def test_platform_not_in_index(tmp_path: Path) -> None:
    layout = multi_platform(tmp_path)
    fails(
        f"oci:{layout.root}",
        r"platform linux/s390x is not in the index \(available: linux/amd64, linux/arm64\)",
        platform="linux/s390x",
    )


def test_missing_blobs_of_other_platforms_are_skipped(tmp_path: Path) -> None:
    layout = multi_platform(tmp_path)
    top = json.loads((layout.root / "index.json").read_text())["manifests"][0]
    nested = json.loads(layout.blob_path(top["digest"]).read_text())
    arm = nested["manifests"][0]
    layout.blob_path(arm["digest"]).unlink()
    assert first_path(f"oci:{layout.root}", "linux/amd64") == "amd64"
    fails(
        f"oci:{layout.root}", "manifest for platform linux/arm64 is missing", platform="linux/arm64"
    )


def test_bad_platform_syntax(tmp_path: Path) -> None:
    layout = multi_platform(tmp_path)
    with pytest.raises(TrimdockError, match="invalid platform"):
        open_image(f"oci:{layout.root}", platform="linux//").__enter__()


# -- path safety ----------------------------------------------------------------------------------


def test_traversal_entries_are_detectable_not_rejected(tmp_path: Path) -> None:
    hostile = layer_tar(
        [
            ("../escape", b"x", "file"),
            ("/abs/file", b"y", "file"),
            ("./ok/../../up", b"z", "file"),
            ("link", "../../etc/passwd", "hardlink"),
            ("sym", "/etc/passwd", "symlink"),
        ]
    )
    layout, _ = layout_with(tmp_path, [hostile], compress=False)
    with open_image(f"oci:{layout.root}") as image:
        entries = {e.path: e for e in image.layers[0].content.entries()}
    assert set(entries) == {"../escape", "abs/file", "../up", "link", "sym"}
    assert is_unsafe_path("../escape") and not is_unsafe_path("abs/file")
    assert unsafe_reason(entries["../escape"]) is not None
    assert unsafe_reason(entries["../up"]) is not None
    assert unsafe_reason(entries["abs/file"]) is None
    assert entries["link"].type is EntryType.HARDLINK and entries["link"].link == "../../etc/passwd"
    assert unsafe_reason(entries["link"]) is not None
    assert unsafe_reason(entries["sym"]) is None  # following it is the exporter's job


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("./etc/passwd", "etc/passwd"),
        ("etc/", "etc"),
        ("/usr//lib/./x", "usr/lib/x"),
        ("a/b/../c", "a/c"),
        ("../../x", "../../x"),
        ("./", ""),
        (".wh..wh..opq", ".wh..wh..opq"),
    ],
)
def test_normalise_path(raw: str, clean: str) -> None:
    assert normalise_path(raw) == clean


def test_layout_copy_helper_keeps_tests_independent(tmp_path: Path) -> None:
    layout = multi_platform(tmp_path)
    copy = shutil.copytree(layout.root, tmp_path / "copy")
    assert first_path(f"oci:{copy}", "linux/amd64") == "amd64"
