"""`image/docker_archive.load_manifest_json`: a `docker save` archive's manifest.json, its
config and layers (documents 1.. of the input, see fuzz/targets/_images.py), then every layer's
entries with digest verification on.

Contract: an `Image`, or `ImageSourceError` (a `TrimdockError`).
"""

from __future__ import annotations

from fuzz.harness import NESTING, Target
from fuzz.targets._images import read_layers, store_from
from trimdock.errors import TrimdockError
from trimdock.image.docker_archive import load_manifest_json


def entry(data: bytes) -> None:
    store = store_from(data, "manifest.json")
    for wanted in (None, "@0"):
        image = load_manifest_json(
            store,
            reference="docker-archive:fuzz.tar",
            source="docker-archive",
            wanted=wanted,
            verify=True,
        )
        read_layers(image, len(data))


TARGET = Target(
    name="docker_manifest",
    entry=entry,
    expected=(TrimdockError,),
    description="image/docker_archive.load_manifest_json (+ image config, layer entries)",
    max_len=16384,
    dictionary=(
        *NESTING,
        b'"Config"',
        b'"Layers"',
        b'"RepoTags"',
        b'"rootfs"',
        b'"diff_ids"',
        b'"sha256:#1"',
        b'"#2.json"',
        b"\n%%\n",
        b'"history"',
        b'"empty_layer"',
    ),
)
