"""`open_image`: the one entry point from a reference string to an `Image`.

    with open_image("docker-archive:app.tar") as image:
        for layer in image.layers:
            for entry in layer.content.entries(): ...

The image's layer contents are valid inside the `with` block only (archives stay open, the
engine's save stream or temporary files are released on exit).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

from trimdock.errors import ImageSourceError
from trimdock.image.digests import DigestPool
from trimdock.image.docker_archive import load_manifest_json
from trimdock.image.layer import TarLayer
from trimdock.image.model import Image
from trimdock.image.reference import ImageReference, Transport, parse_reference
from trimdock.image.store import DirStore, TarStore


def open_image(
    reference: str, *, platform: str | None = None, verify: bool = True
) -> AbstractContextManager[Image]:
    """Open an image by reference (see `trimdock.image.reference`).

    `platform` (`os/arch[/variant]`) picks a manifest from a multi-platform index (default: the
    host's platform, else linux/amd64). `verify=False` skips the layer digest checks, which lets
    header-only reads of uncompressed layers seek over file data from the first read.
    """
    ref = parse_reference(reference)
    return _open(ref, platform, verify)


@contextmanager
def _open(ref: ImageReference, platform: str | None, verify: bool) -> Iterator[Image]:
    with ExitStack() as stack:
        if ref.transport is Transport.DOCKER_DAEMON:
            from trimdock.image.daemon import open_daemon_image

            yield stack.enter_context(open_daemon_image(ref, verify=verify))
            return
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
