"""Images in files: `docker save` archives (both forms), OCI layouts and OCI archives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from trimdock.errors import ImageSourceError
from trimdock.image.digests import DigestPool
from trimdock.image.docker_archive import load_manifest_json
from trimdock.image.layer import TarLayer
from trimdock.image.model import Image
from trimdock.image.reference import ImageReference, Transport
from trimdock.image.store import DirStore, TarStore


@contextmanager
def open_file_image(ref: ImageReference, platform: str | None, verify: bool) -> Iterator[Image]:
    with ExitStack() as stack:
        path = Path(ref.target).expanduser()
        if ref.transport is Transport.OCI:
            store: TarStore | DirStore = DirStore(path, ref.text)
        else:
            if not path.exists():
                raise ImageSourceError("no such file", source=ref.text)
            store = TarStore(path, ref.text)
        stack.callback(store.close)
        image = load_store(
            store,
            reference=ref.text,
            transport=ref.transport,
            selector=ref.selector,
            platform=platform,
            verify=verify,
        )
        if verify:
            # Registered after the store: the pool stops before the archive is closed.
            pool = DigestPool()
            stack.callback(pool.close)
            layers = [layer.content for layer in image.layers]
            for content in layers:
                if isinstance(content, TarLayer):
                    content.use_digest_pool(pool)
            for content in layers:
                if isinstance(content, TarLayer):
                    content.prefetch_digest()
        yield image


def load_store(
    store: TarStore | DirStore,
    *,
    reference: str,
    transport: Transport,
    selector: str | None,
    platform: str | None,
    verify: bool,
) -> Image:
    """The image in an archive or layout: its OCI index if usable, else its manifest.json."""
    source = transport.value
    if transport is Transport.ARCHIVE:
        source = (
            Transport.DOCKER_ARCHIVE.value
            if store.exists("manifest.json")
            else Transport.OCI_ARCHIVE.value
        )
    has_layout = store.exists("oci-layout") and store.exists("index.json")
    if has_layout:
        from trimdock.image.oci import load_oci_layout

        image = load_oci_layout(
            store,
            reference=reference,
            source=source,
            wanted=selector,
            platform=platform,
            verify=verify,
            allow_fallback=store.exists("manifest.json"),
        )
        if image is not None:
            return image
    if store.exists("manifest.json"):
        return load_manifest_json(
            store, reference=reference, source=source, wanted=selector, verify=verify
        )
    if transport is Transport.OCI:
        raise ImageSourceError(
            "not an OCI image layout (no oci-layout/index.json)", source=reference
        )
    raise ImageSourceError(
        "not an image archive (no manifest.json, no oci-layout/index.json)", source=reference
    )
