"""`open_image`: the one entry point from a reference string to an `Image`.

    with open_image("docker-archive:app.tar") as image:
        for layer in image.layers:
            for entry in layer.content.entries(): ...

The image's layer contents are valid inside the `with` block only (archives stay open, the
engine's save stream or temporary files are released on exit).

This is the one place that picks a source for a reference (like dive's image resolvers): the
file sources (`trimdock.image.files`), and for an engine name either the engine's own layer
store (`trimdock.image.layerstore`, no copy at all) or its `docker save` stream
(`trimdock.image.daemon`), and registries (`trimdock.image.registry`). Source modules never
import this one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from trimdock.image.reference import Transport, parse_reference

if TYPE_CHECKING:
    from trimdock.image.kept import BodyRequest
    from trimdock.image.model import Image


def note_on_stderr(message: str) -> None:
    sys.stderr.write(f"trimdock: note: {message}\n")


def open_image(
    reference: str,
    *,
    platform: str | None = None,
    verify: bool = True,
    note: Callable[[str], None] = note_on_stderr,
    insecure: bool = False,
    keep: BodyRequest[Any] | None = None,
) -> AbstractContextManager[Image]:
    """Open an image by reference (see `trimdock.image.reference`).

    `platform` (`os/arch[/variant]`) picks a manifest from a multi-platform index (default: the
    host's platform, else linux/amd64). `verify=False` skips the layer digest checks, which lets
    header-only reads of uncompressed layers seek over file data from the first read.
    `note` hears about a slower path taken than the usual one (one line, no prefix needed).
    `insecure` allows plain HTTP to a registry on loopback (`docker://127.0.0.1:5000/...`).
    `keep` names the file bodies the caller will read, for sources that would otherwise read
    the image twice to serve them (the engine's save stream, registries: they keep them from
    their one read, and registries cache them; `trimdock.image.kept`).
    """
    # Each source is imported when a reference names it: their readers (decompressors, digest
    # workers, HTTP) cost start-up that a run reading another source does not need.
    ref = parse_reference(reference)
    if ref.transport is Transport.DOCKER_DAEMON:
        from trimdock.image.daemon import open_daemon_image

        return open_daemon_image(ref, verify=verify, note=note, keep=keep)
    if ref.transport is Transport.DOCKER:
        from trimdock.image.registry import open_registry_image

        return open_registry_image(
            ref, platform=platform, verify=verify, insecure=insecure, keep=keep
        )
    from trimdock.image.files import open_file_image

    return open_file_image(ref, platform, verify)
