"""`docker save` archives through their `manifest.json` (the legacy form, and the fallback for
Engine >= 25 archives whose OCI index is unusable).

The layer folder ids are synthetic: `Layers[i]` pairs with `config.rootfs.diff_ids[i]`. A layer
repeated in the stack may be a relative symlink to an earlier `layer.tar`; the store follows it.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from contextlib import AbstractContextManager
from typing import IO, Any

from trimdock.errors import ImageSourceError
from trimdock.image.assemble import BlobRef, assemble_image
from trimdock.image.imageconfig import load_json, parse_image_config
from trimdock.image.model import Image
from trimdock.image.store import Store
from trimdock.image.streams import Compression, read_prefix, sniff

LEGACY_LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar"
_HEX = re.compile(r"([0-9a-f]{64})(?:\.json)?$")


def read_manifest_json(store: Store) -> list[dict[str, Any]]:
    value = load_json(store.read("manifest.json"), "manifest.json", store.name)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ImageSourceError("manifest.json is not a list of images", source=store.name)
    if not value:
        raise ImageSourceError("manifest.json lists no image", source=store.name)
    return value


def select_image(items: list[dict[str, Any]], wanted: str | None, source: str) -> dict[str, Any]:
    """The manifest.json item for `wanted` (a tag, or `@N`), or the only one."""
    if wanted is None:
        if len(items) == 1:
            return items[0]
        tags = [tag for item in items for tag in item.get("RepoTags") or []]
        raise ImageSourceError(
            f"the archive holds {len(items)} images; choose one with :TAG or :@N "
            f"(tags: {', '.join(tags) or 'none'})",
            source=source,
        )
    if wanted.startswith("@") and wanted[1:].isdigit():
        index = int(wanted[1:])
        if index < len(items):
            return items[index]
        raise ImageSourceError(f"no image @{index} (the archive holds {len(items)})", source=source)
    for item in items:
        tags = item.get("RepoTags") or []
        if wanted in tags or any(tag.rsplit(":", 1)[0] == wanted for tag in tags):
            return item
    raise ImageSourceError(f"no image tagged {wanted!r} in the archive", source=source)


def load_manifest_json(
    store: Store, *, reference: str, source: str, wanted: str | None, verify: bool
) -> Image:
    item = select_image(read_manifest_json(store), wanted, reference)
    config_name = item.get("Config")
    layer_names = item.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layer_names, list):
        raise ImageSourceError("manifest.json item lacks Config or Layers", source=reference)
    config_bytes = store.read(config_name)
    config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    named = _HEX.search(posixpath.basename(config_name))
    if named and verify and config_digest != "sha256:" + named.group(1):
        raise ImageSourceError(
            f"config {config_name} does not match its digest (content is {config_digest})",
            source=reference,
        )
    parsed = parse_image_config(config_bytes, reference)
    blobs = []
    for name in layer_names:
        if not isinstance(name, str) or not store.exists(name):
            raise ImageSourceError(
                f"missing layer {name!r} listed in manifest.json", source=reference
            )
        blobs.append(blob_ref(store, name, LEGACY_LAYER_MEDIA_TYPE))
    image = assemble_image(
        reference=reference,
        source=source,
        config_digest=config_digest,
        parsed=parsed,
        blobs=blobs,
        repo_tags=tuple(str(tag) for tag in item.get("RepoTags") or []),
        verify=verify,
    )
    return image


def blob_ref(store: Store, name: str, media_type: str, digest: str | None = None) -> BlobRef:
    """Where a layer blob lives in the store; its compression is sniffed from its first bytes."""
    with store.opener(name) as raw:
        kind = sniff(read_prefix(raw))

    def opener() -> AbstractContextManager[IO[bytes]]:
        return store.opener(name)

    return BlobRef(
        opener=opener,
        size=store.size(name),
        digest=digest,
        media_type=media_type,
        seekable=store.seekable,
        uncompressed=kind is Compression.NONE,
        extent=store.extent(name) if kind is Compression.NONE else None,
    )
