"""OCI image layouts: a directory (`oci:`), a tar (`oci-archive:`), and the layout inside
Engine >= 25 `docker save` archives.

Reading order: `index.json` -> (nested indexes) -> one manifest, chosen by platform -> config ->
layers. Every JSON document read is checked against the digest it was referenced by; blobs of
platforms not chosen may be absent (registries and `skopeo` copy one platform only). BuildKit
attestation manifests (`vnd.docker.reference.type: attestation-manifest`, platform
`unknown/unknown`) are skipped.
"""

from __future__ import annotations

import platform as host
from dataclasses import dataclass
from typing import Any

from trimdock.errors import ImageSourceError, UsageError
from trimdock.image.assemble import assemble_image, check_digest
from trimdock.image.docker_archive import blob_ref
from trimdock.image.imageconfig import parse_image_config, parse_json_document, sha256_digest
from trimdock.image.model import Image
from trimdock.image.store import Store

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
REFERENCE_TYPE = "vnd.docker.reference.type"
SCHEMA1_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    }
)
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def matches(self, wanted: Platform) -> bool:
        return (
            self.os == wanted.os
            and self.architecture == wanted.architecture
            and (not wanted.variant or self.variant == wanted.variant)
        )


_MACHINES = {
    "x86_64": ("amd64", ""),
    "amd64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "arm64": ("arm64", ""),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", ""),
    "i686": ("386", ""),
    "ppc64le": ("ppc64le", ""),
    "s390x": ("s390x", ""),
    "riscv64": ("riscv64", ""),
}

DEFAULT_PLATFORM = Platform("linux", "amd64")


def host_platform() -> Platform:
    arch, variant = _MACHINES.get(host.machine().lower(), ("amd64", ""))
    return Platform("linux", arch, variant)


def parse_platform(text: str) -> Platform:
    """`os/arch[/variant]` (or `arch` alone, meaning linux)."""
    parts = text.strip().lower().split("/")
    if len(parts) == 1 and parts[0]:
        return Platform("linux", parts[0])
    if len(parts) in (2, 3) and all(parts):
        return Platform(*parts)
    raise UsageError(f"invalid platform {text!r}: expected OS/ARCH[/VARIANT], e.g. linux/arm64")


def _descriptor_platform(descriptor: dict[str, Any]) -> Platform | None:
    value = descriptor.get("platform")
    if not isinstance(value, dict):
        return None
    return Platform(
        str(value.get("os", "")), str(value.get("architecture", "")), str(value.get("variant", ""))
    )


@dataclass(frozen=True)
class _Candidate:
    descriptor: dict[str, Any]
    manifest: dict[str, Any] | None  # None: the blob is absent from the layout
    platform: Platform | None
    names: tuple[str, ...]


class _Walker:
    def __init__(self, store: Store, reference: str) -> None:
        self.store = store
        self.reference = reference
        self.candidates: list[_Candidate] = []

    def error(self, problem: str) -> ImageSourceError:
        return ImageSourceError(problem, source=self.reference)

    def blob_name(self, digest: Any, what: str) -> str:
        value = check_digest(str(digest), what, self.reference)
        return "blobs/sha256/" + value.removeprefix("sha256:")

    def read_document(self, descriptor: dict[str, Any], what: str) -> dict[str, Any] | None:
        """The JSON blob a descriptor points to (digest-checked), or None when absent."""
        digest = str(descriptor.get("digest", ""))
        name = self.blob_name(digest, what)
        if not self.store.exists(name):
            return None
        data = self.store.read(name)
        if sha256_digest(data) != digest:
            raise self.error(f"{what} {digest} does not match its digest")
        return parse_json_document(data, f"{what} {digest[:19]}", self.reference)

    def walk(self, descriptors: list[Any], names: tuple[str, ...], depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise self.error("image index nesting is too deep")
        for descriptor in descriptors:
            if not isinstance(descriptor, dict):
                raise self.error("image index has an entry that is not an object")
            media_type = str(descriptor.get("mediaType", ""))
            if media_type in SCHEMA1_TYPES:
                raise self.error("schema 1 manifests are not supported (deprecated format)")
            annotations = _annotations(descriptor)
            if annotations.get(REFERENCE_TYPE) == "attestation-manifest":
                continue
            platform = _descriptor_platform(descriptor)
            if platform is not None and platform.os == platform.architecture == "unknown":
                continue
            # Engine >= 25 writes the full name and the tag alone; the full name is the tag.
            full = annotations.get(CONTAINERD_NAME) or annotations.get(REF_NAME)
            own_names = names or ((str(full),) if full else ())
            document = self.read_document(descriptor, "manifest")
            if document is not None and isinstance(document.get("manifests"), list):
                self.walk(document["manifests"], own_names, depth + 1)
                continue
            if document is not None:
                check_manifest(document, self.reference)
            self.candidates.append(_Candidate(descriptor, document, platform, own_names))


def check_manifest(document: dict[str, Any], reference: str) -> None:
    if document.get("schemaVersion") == 1 or "fsLayers" in document:
        raise ImageSourceError(
            "schema 1 manifests are not supported (deprecated format)", source=reference
        )
    if not isinstance(document.get("config"), dict) or not isinstance(
        document.get("layers", []), list
    ):
        raise ImageSourceError("manifest has no config or layers", source=reference)


def _annotations(descriptor: dict[str, Any]) -> dict[str, Any]:
    """A descriptor's annotations; any other JSON value there is no annotations (hostile or
    broken input must not reach `.get` on a number)."""
    value = descriptor.get("annotations")
    return value if isinstance(value, dict) else {}


def _select_by_name(descriptors: list[Any], wanted: str) -> list[Any]:
    chosen = []
    for descriptor in descriptors:
        if not isinstance(descriptor, dict):
            continue
        annotations = _annotations(descriptor)
        names = {str(annotations.get(REF_NAME, "")), str(annotations.get(CONTAINERD_NAME, ""))}
        if wanted in names or any(name.endswith(":" + wanted) for name in names if name):
            chosen.append(descriptor)
    return chosen


def load_oci_layout(
    store: Store,
    *,
    reference: str,
    source: str,
    wanted: str | None,
    platform: str | None,
    verify: bool,
    allow_fallback: bool,
) -> Image | None:
    """The image of an OCI layout, or None when `allow_fallback` and the index is unusable
    (Engine >= 25 bugs: `"manifests": null`, a manifest with zero layers)."""
    walker = _Walker(store, reference)
    parse_json_document(store.read("oci-layout"), "oci-layout", reference)
    index = parse_json_document(store.read("index.json"), "index.json", reference)
    if index.get("schemaVersion") == 1:
        raise walker.error("schema 1 manifests are not supported (deprecated format)")
    descriptors = index.get("manifests")
    if not isinstance(descriptors, list) or not descriptors:
        if allow_fallback:
            return None
        raise walker.error("index.json lists no manifests")
    if wanted is not None:
        selected = _select_by_name(descriptors, wanted)
        if not selected:
            if allow_fallback:
                return None
            raise walker.error(f"no image named {wanted!r} in index.json")
        descriptors = selected
    else:
        names = sorted(
            {str(_annotations(d).get(REF_NAME, "")) for d in descriptors if isinstance(d, dict)}
            - {""}
        )
        if len(names) > 1:
            if allow_fallback:
                return None
            raise walker.error(
                f"the layout holds several images ({', '.join(names)}); choose one with :NAME"
            )
    walker.walk(descriptors, (), 0)
    candidate = _choose(walker, platform)
    manifest = candidate.manifest
    assert manifest is not None
    layer_descriptors = manifest.get("layers") or []
    config_descriptor = manifest["config"]
    config_digest = check_digest(str(config_descriptor.get("digest", "")), "config", reference)
    config_name = walker.blob_name(config_digest, "config")
    if not store.exists(config_name):
        raise walker.error(f"missing blob {config_digest} (image config)")
    config_bytes = store.read(config_name)
    if sha256_digest(config_bytes) != config_digest:
        raise walker.error(f"image config {config_digest} does not match its digest")
    parsed = parse_image_config(config_bytes, reference)
    if not layer_descriptors and parsed.diff_ids and allow_fallback:
        return None
    blobs = []
    for position, descriptor in enumerate(layer_descriptors):
        if not isinstance(descriptor, dict):
            raise walker.error(f"layer {position} descriptor is not an object")
        digest = check_digest(str(descriptor.get("digest", "")), f"layer {position}", reference)
        name = walker.blob_name(digest, f"layer {position}")
        if not store.exists(name):
            raise walker.error(f"missing blob {digest} (layer {position})")
        declared = descriptor.get("size")
        actual = store.size(name)
        if isinstance(declared, int) and declared != actual:
            raise walker.error(
                f"layer {position} blob {digest[:19]} is {actual} bytes, "
                f"the manifest says {declared} (truncated or replaced)"
            )
        blobs.append(blob_ref(store, name, str(descriptor.get("mediaType", "")), digest=digest))
    return assemble_image(
        reference=reference,
        source=source,
        config_digest=config_digest,
        parsed=parsed,
        blobs=blobs,
        repo_tags=candidate.names,
        verify=verify,
    )


def _platform_of(walker: _Walker, candidate: _Candidate) -> Platform | None:
    if candidate.platform is not None:
        return candidate.platform
    if candidate.manifest is None:
        return None
    config = candidate.manifest.get("config") or {}
    document = walker.read_document(config, "image config")
    if document is None:
        return None
    return Platform(
        str(document.get("os", "")),
        str(document.get("architecture", "")),
        str(document.get("variant", "")),
    )


def _choose(walker: _Walker, requested: str | None) -> _Candidate:
    candidates = walker.candidates
    present = [c for c in candidates if c.manifest is not None]
    if requested is None and len(present) == 1:
        return present[0]
    platforms = [(c, _platform_of(walker, c)) for c in candidates]
    if requested is not None:
        wanted = [parse_platform(requested)]
    else:
        wanted = [host_platform(), DEFAULT_PLATFORM]
    for target in wanted:
        for candidate, found in platforms:
            if found is not None and found.matches(target):
                if candidate.manifest is None:
                    raise walker.error(
                        f"the manifest for platform {found} is missing "
                        f"(blob {candidate.descriptor.get('digest')} absent)"
                    )
                return candidate
    available = sorted({str(p) for c, p in platforms if p is not None and c.manifest is not None})
    if not present:
        raise walker.error("no usable manifest in the index (blobs missing)")
    if requested is None:
        raise walker.error(
            f"the index holds several platforms ({', '.join(available)}); choose one with "
            "--platform"
        )
    raise walker.error(
        f"platform {requested} is not in the index (available: {', '.join(available) or 'none'})"
    )
