"""Crafting image layouts and archives byte by byte, for the forms and hostile inputs the engine
on this machine cannot produce (Engine >= 25 archives, schema 1, multi-platform, bad digests).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(
    members: Iterable[tuple[str, bytes | str | None, str]], tar_format: int = tarfile.PAX_FORMAT
) -> bytes:
    """A layer tar from (name, content, kind): kind file/dir/symlink/hardlink."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tar_format) as tar:
        for name, content, kind in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind in ("symlink", "hardlink"):
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = str(content)
                tar.addfile(info)
            else:
                data = content if isinstance(content, bytes) else str(content or "").encode()
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def config_json(diff_ids: list[str], arch: str = "amd64", **extra: Any) -> bytes:
    history = [{"created_by": f"/bin/sh -c step {i}"} for i in range(len(diff_ids))]
    return json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
            **extra,
        }
    ).encode()


class Layout:
    """An OCI layout directory assembled blob by blob."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')

    def blob(self, data: bytes) -> dict[str, Any]:
        digest = sha(data)
        (self.root / "blobs" / "sha256" / digest[7:]).write_bytes(data)
        return {"digest": digest, "size": len(data)}

    def image(
        self, tars: list[bytes], *, compress: bool = True, arch: str = "amd64"
    ) -> dict[str, Any]:
        """Store an image (gzip layers by default); returns its manifest descriptor."""
        layers = []
        for tar in tars:
            data = gzip.compress(tar, mtime=0) if compress else tar
            kind = "tar+gzip" if compress else "tar"
            layers.append(
                {"mediaType": f"application/vnd.oci.image.layer.v1.{kind}", **self.blob(data)}
            )
        config = self.blob(config_json([sha(t) for t in tars], arch=arch))
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": layers,
        }
        return {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            **self.blob(json.dumps(manifest).encode()),
            "platform": {"os": "linux", "architecture": arch},
        }

    def index(self, manifests: list[dict[str, Any]] | None) -> None:
        (self.root / "index.json").write_text(
            json.dumps({"schemaVersion": 2, "manifests": manifests})
        )

    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / digest[7:]


def tar_directory(directory: Path, archive: Path, extra: dict[str, bytes] | None = None) -> Path:
    """A tar of a directory's files (relative names), plus extra members."""
    with tarfile.open(archive, "w") as tar:
        for path in sorted(directory.rglob("*")):
            tar.add(path, path.relative_to(directory).as_posix(), recursive=False)
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


def engine25_archive(legacy: Path, out: Path) -> Path:
    """An Engine >= 25 style `docker save` made from a legacy one: an OCI layout whose layers are
    the uncompressed layer.tar files stored under their DiffID (blob digest == DiffID), the
    config under its digest, an index naming the image, plus a manifest.json whose paths point
    into blobs/ (what Engine 25+ writes for compatibility).
    """
    members: dict[str, bytes] = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}'}
    with tarfile.open(legacy) as tar:

        def read(name: str) -> bytes:
            member = tar.extractfile(name)
            assert member is not None
            return member.read()

        item = json.loads(read("manifest.json"))[0]
        config = read(item["Config"])
        layers = []
        for name in item["Layers"]:
            data = read(name)
            members["blobs/sha256/" + sha(data)[7:]] = data
            layers.append(
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": sha(data),
                    "size": len(data),
                }
            )
    members["blobs/sha256/" + sha(config)[7:]] = config
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha(config),
                "size": len(config),
            },
            "layers": layers,
        }
    ).encode()
    members["blobs/sha256/" + sha(manifest)[7:]] = manifest
    tag = item["RepoTags"][0]
    members["index.json"] = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": sha(manifest),
                    "size": len(manifest),
                    "annotations": {
                        "io.containerd.image.name": tag,
                        "org.opencontainers.image.ref.name": tag.rsplit(":", 1)[1],
                    },
                }
            ],
        }
    ).encode()
    members["manifest.json"] = json.dumps(
        [
            {
                "Config": "blobs/sha256/" + sha(config)[7:],
                "RepoTags": item["RepoTags"],
                "Layers": ["blobs/sha256/" + layer["digest"][7:] for layer in layers],
            }
        ]
    ).encode()
    with tarfile.open(out, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target
