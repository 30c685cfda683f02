"""The local engine (docker-daemon:NAME and bare NAME[:TAG]) through the Docker SDK."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from trimdock.errors import EngineError
from trimdock.image.model import Image
from trimdock.image.reference import ImageReference


@contextmanager
def open_daemon_image(ref: ImageReference, *, verify: bool = True) -> Iterator[Image]:
    raise EngineError("the local engine source is not implemented yet", source=ref.text)
    yield  # pragma: no cover
