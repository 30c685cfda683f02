"""`image/oci.load_oci_layout`: index.json (document 0), nested indexes, manifests, config and
layers (documents 1.., addressed as `sha256:#N`), then every layer's entries.

Contract: an `Image`, None (fallback to manifest.json allowed), or `ImageSourceError`/`UsageError`
(both `TrimdockError`).
"""

from __future__ import annotations

from fuzz.harness import NESTING, Target
from fuzz.targets._images import read_layers, store_from
from trimdock.errors import TrimdockError
from trimdock.image.oci import load_oci_layout

_OCI_LAYOUT = b'{"imageLayoutVersion": "1.0.0"}'


def entry(data: bytes) -> None:
    store = store_from(data, "index.json", {"oci-layout": _OCI_LAYOUT})
    for fallback, platform in ((False, None), (True, "linux/arm64/v8")):
        image = load_oci_layout(
            store,
            reference="oci:fuzz",
            source="oci",
            wanted=None,
            platform=platform,
            verify=True,
            allow_fallback=fallback,
        )
        if image is not None:
            read_layers(image, len(data))


TARGET = Target(
    name="oci_index",
    entry=entry,
    expected=(TrimdockError,),
    description="image/oci.load_oci_layout (index, nested indexes, manifest, config, layers)",
    max_len=16384,
    dictionary=(
        *NESTING,
        b'"manifests"',
        b'"mediaType"',
        b'"digest"',
        b'"sha256:#1"',
        b'"platform"',
        b'"annotations"',
        b'"layers"',
        b'"config"',
        b'"schemaVersion"',
        b"\n%%\n",
        b'"application/vnd.oci.image.index.v1+json"',
        b'"vnd.docker.reference.type"',
        b'"attestation-manifest"',
    ),
)
