"""`docker://REGISTRY/REPO:TAG|@sha256:...`: an image read straight from a registry.

manifest (a list/index picks `--platform`, default the host's, else linux/amd64) -> config blob
-> layer blobs, each digest checked (documents as they arrive; layers by `TarLayer` while they
stream: blob digest and DiffID). Layers are never stored whole: they are decompressed and
parsed as they download. Layer headers proven by their DiffID go to the per-layer cache, and
the config too, by digest: a second analysis of the image downloads nothing but its manifest.

The download that reads a layer's headers also keeps (`trimdock.image.kept.Keeper`, as the
engine's save path does) what analyses would otherwise download the layer again for: the
reclaim analysis' package database files and duplicate candidates' digests, and the bodies the
caller's `BodyRequest` names (`scan`). Those go to the cache too (`trimdock.image.keptcache`),
so a second `layers` or `scan` needs no blob. A layer whose headers are cached but whose kept
data is not (evicted, or read without the request) is downloaded once when that data is asked
for, and everything it keeps is cached then.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import IO, Any, cast

from trimdock.cache.store import ResultCache
from trimdock.image.assemble import BlobRef, assemble_image, check_digest, layer_label
from trimdock.image.imageconfig import parse_image_config
from trimdock.image.kept import BodyRequest, Keeper, KeptLayer
from trimdock.image.keptcache import KeptCache
from trimdock.image.layer import TarLayer
from trimdock.image.layercache import LayerCache
from trimdock.image.model import Image, LayerContent, LayerEntry
from trimdock.image.oci import DEFAULT_PLATFORM, Platform, host_platform, parse_platform
from trimdock.image.reference import ImageReference
from trimdock.registry.client import RegistryClient
from trimdock.registry.names import parse_registry_name

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
CONFIG_KIND = "image-config"


@contextmanager
def open_registry_image(
    ref: ImageReference,
    *,
    platform: str | None,
    verify: bool,
    insecure: bool,
    keep: BodyRequest[Any] | None = None,
) -> Iterator[Image]:
    """The image `ref` names in its registry; `keep`: bodies the caller will read, kept from
    the download that reads the headers (module docstring)."""
    name = parse_registry_name(ref.text)
    with ExitStack() as stack:
        client = RegistryClient(name, insecure=insecure)
        stack.callback(client.close)
        manifest = _manifest(client, name.reference, platform)
        config_digest, config_bytes = _config(client, manifest)
        parsed = parse_image_config(config_bytes, ref.text)
        layers = manifest.get("layers")
        if not isinstance(layers, list) or len(layers) != len(parsed.diff_ids):
            raise client.error("the manifest's layers do not match the config's DiffIDs")
        cache = LayerCache()
        kept_cache = KeptCache()
        keeper = Keeper(keep)
        contents: list[LayerContent] = []
        blobs: list[BlobRef] = []
        for index, (descriptor, diff_id) in enumerate(zip(layers, parsed.diff_ids, strict=True)):
            if not isinstance(descriptor, dict):
                raise client.error(f"layer {index} descriptor is not an object")
            blob = check_digest(str(descriptor.get("digest", "")), f"layer {index}", ref.text)
            size = descriptor.get("size") if isinstance(descriptor.get("size"), int) else None

            def opener(
                blob: str = blob, size: int | None = size
            ) -> AbstractContextManager[IO[bytes]]:
                return cast(AbstractContextManager[IO[bytes]], client.blob(blob, size))

            tar = TarLayer(
                source=ref.text,
                label=layer_label(index, diff_id),
                opener=opener,
                diff_id=diff_id,
                blob_digest=blob,
                verify=verify,
            )
            contents.append(_CachedLayer(tar, diff_id, cache, kept_cache, keeper, verify))
            blobs.append(
                BlobRef(
                    opener=opener,
                    size=size,
                    digest=blob,
                    media_type=str(descriptor.get("mediaType", "")),
                )
            )
        tag = f"{name.registry}/{name.repository}:{name.tag}" if name.tag else None
        yield assemble_image(
            reference=ref.text,
            source="docker",
            config_digest=config_digest,
            parsed=parsed,
            blobs=blobs,
            repo_tags=(tag,) if tag else (),
            verify=verify,
            contents=contents,
        )


def _json(client: RegistryClient, data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise client.error(f"the {what} is not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise client.error(f"the {what} is not a JSON object")
    return value


def _manifest(client: RegistryClient, reference: str, platform: str | None) -> dict[str, Any]:
    digest = reference if reference.startswith("sha256:") else None
    data, media_type = client.document(f"manifests/{reference}", accept=ACCEPT, digest=digest)
    document = _json(client, data, "manifest")
    if document.get("schemaVersion") == 1:
        raise client.error("schema 1 manifests are not supported (deprecated format)")
    kind = str(document.get("mediaType") or media_type)
    if kind in (DOCKER_LIST, OCI_INDEX) or "manifests" in document:
        chosen = _choose(client, document.get("manifests"), platform)
        data, _ = client.document(f"manifests/{chosen}", accept=ACCEPT, digest=chosen)
        document = _json(client, data, "manifest")
        if "manifests" in document:
            raise client.error("an index inside an index is not supported")
    return document


def _platform(descriptor: dict[str, Any]) -> Platform | None:
    value = descriptor.get("platform")
    if not isinstance(value, dict):
        return None
    return Platform(
        str(value.get("os", "")), str(value.get("architecture", "")), str(value.get("variant", ""))
    )


def _choose(client: RegistryClient, descriptors: Any, requested: str | None) -> str:
    if not isinstance(descriptors, list) or not descriptors:
        raise client.error("the image index lists no manifests")
    found = [
        (d, _platform(d))
        for d in descriptors
        if isinstance(d, dict) and _platform(d) != Platform("unknown", "unknown")
    ]
    wanted = [parse_platform(requested)] if requested else [host_platform(), DEFAULT_PLATFORM]
    for target in wanted:
        for descriptor, platform in found:
            if platform is not None and platform.matches(target):
                return check_digest(str(descriptor.get("digest", "")), "manifest", client.name.text)
    available = ", ".join(sorted({str(p) for _, p in found if p is not None})) or "none"
    if requested:
        raise client.error(f"platform {requested} is not in the index (available: {available})")
    raise client.error(f"no manifest for linux/amd64 or this machine (available: {available})")


def _config(client: RegistryClient, manifest: dict[str, Any]) -> tuple[str, bytes]:
    descriptor = manifest.get("config")
    if not isinstance(descriptor, dict):
        raise client.error("the manifest has no config")
    digest = check_digest(str(descriptor.get("digest", "")), "config", client.name.text)
    cache = ResultCache.default()
    cached = cache.get(CONFIG_KIND, digest)  # the cache checks its own files' integrity
    if cached is not None:
        return digest, cached
    data, _ = client.document(f"blobs/{digest}", digest=digest)
    cache.put(CONFIG_KIND, digest, data)
    return digest, data


class _CachedLayer:
    """A registry layer whose headers and kept data come from the per-layer cache when its
    DiffID is there; otherwise it downloads once, keeping, and what the digest checks proved
    is cached (`trimdock.image.kept.KeptBodies`, `KeptReads`)."""

    def __init__(
        self,
        tar: TarLayer,
        diff_id: str,
        cache: LayerCache,
        kept_cache: KeptCache,
        keeper: Keeper,
        verify: bool,
    ) -> None:
        self._tar = tar
        self._diff_id = diff_id
        self._cache = cache
        self._kept_cache = kept_cache
        self._keeper = keeper
        self._verify = verify
        self._kept: KeptLayer | None = None  # bodies and digests, from a download or the cache
        self._reads: dict[int, bytes | None] | None = None  # the request's, likewise

    def entries(self) -> Iterator[LayerEntry]:
        hit = self._cache.load(self._diff_id)
        if hit is not None:
            yield from hit[0]
            return
        yield from self._download()

    def _download(self) -> Iterator[LayerEntry]:
        kept = KeptLayer()
        seen: list[LayerEntry] = []
        with self._tar.open() as items:
            for entry in self._keeper.keeping(items, kept):
                seen.append(entry)
                yield entry
        # The iterator ended: the whole blob was read and (with verify) its digests matched.
        request = self._keeper.request
        self._kept = kept
        self._reads = kept.reads if request is not None else None
        if self._verify and self._tar.uncompressed_size is not None:
            self._cache.save(self._diff_id, seen, self._tar.uncompressed_size)
            self._kept_cache.save_kept(self._diff_id, kept)
            if request is not None and request.key:
                self._kept_cache.save_reads(self._diff_id, request.key, kept.reads)

    def _download_again(self) -> None:
        """Headers came from the cache, kept data did not: one download keeps it all."""
        for _ in self._download():
            pass

    def _kept_layer(self) -> KeptLayer:
        if self._kept is None:
            self._kept = self._kept_cache.load_kept(self._diff_id)
        if self._kept is None:
            self._download_again()  # sets it
        return self._kept if self._kept is not None else KeptLayer()

    def kept_body(self, path: str) -> bytes | None:
        return self._kept_layer().bodies.get(path)

    def kept_digest(self, path: str) -> str | None:
        return self._kept_layer().digests.get(path)

    def kept_reads(self) -> Mapping[int, bytes | None]:
        request = self._keeper.request
        if request is None:
            return {}  # nothing asked for up front: the caller opens the layer
        if self._reads is None and request.key:
            self._reads = self._kept_cache.load_reads(self._diff_id, request.key)
        if self._reads is None:
            self._download_again()
        return self._reads or {}

    def open(self) -> AbstractContextManager[Iterator[tuple[LayerEntry, IO[bytes] | None]]]:
        return self._tar.open()
