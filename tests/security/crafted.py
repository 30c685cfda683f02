"""Crafted OCI layouts for the scan tests that need no engine (files with chosen modes)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

from tests.image.craft import Layout, sha

Member = tuple[str, bytes | None, int]  # path, content (None: directory, b"\0wh": whiteout), mode


def tar_of(members: list[Member]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content, mode in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            info.mode = mode
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def crafted_image(
    root: Path,
    layers: list[list[Member]],
    *,
    config: dict[str, Any] | None = None,
    history: list[str] | None = None,
) -> str:
    """An OCI layout of these layers and runtime config; returns its `oci:` reference."""
    layout = Layout(root)
    tars = [tar_of(members) for members in layers]
    blobs = [
        {"mediaType": "application/vnd.oci.image.layer.v1.tar", **layout.blob(t)} for t in tars
    ]
    commands = history or [f"RUN step {i}" for i in range(len(tars))]
    config_blob = layout.blob(
        json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": config or {},
                "rootfs": {"type": "layers", "diff_ids": [sha(t) for t in tars]},
                "history": [{"created_by": c} for c in commands],
            }
        ).encode()
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_blob},
        "layers": blobs,
    }
    layout.index(
        [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **layout.blob(json.dumps(manifest).encode()),
            }
        ]
    )
    return f"oci:{root}"


def dist_info(name: str, version: str) -> list[Member]:
    base = f"app/lib/site-packages/{name}-{version}.dist-info"
    return [
        (base, None, 0o755),
        (
            f"{base}/METADATA",
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
            0o644,
        ),
    ]
