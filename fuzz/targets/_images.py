"""An in-memory image store for the manifest/index targets, built from a multi-document input.

Document 0 is the entry document (manifest.json or index.json); every other document N is
stored under the names a real archive or layout would use for a blob with its digest:
`blobs/sha256/<hex>`, `<hex>.json` and `<hex>/layer.tar`, plus `N` for short names. `#N` in a
document is replaced by the digest hex of document N (see `fuzz.harness.split_documents`).
"""

from __future__ import annotations

import hashlib
import io
from contextlib import AbstractContextManager, nullcontext
from typing import IO, cast

from fuzz.harness import ContractViolation, split_documents
from trimdock.errors import ImageSourceError
from trimdock.image.digests import Extent
from trimdock.image.model import Image
from trimdock.image.tarparse import BLOCK

_DEFLATE_MAX_RATIO = 1032


class MemoryStore:
    """Satisfies `trimdock.image.store.Store` over a dict of names to bytes."""

    seekable = True

    def __init__(self, files: dict[str, bytes], name: str = "fuzz.tar") -> None:
        self.name = name
        self._files = files

    def exists(self, name: str) -> bool:
        return name in self._files

    def _get(self, name: str) -> bytes:
        try:
            return self._files[name]
        except KeyError:
            raise ImageSourceError(
                f"missing file {name!r} in the archive", source=self.name
            ) from None

    def size(self, name: str) -> int:
        return len(self._get(name))

    def read(self, name: str) -> bytes:
        return self._get(name)

    def opener(self, name: str) -> AbstractContextManager[IO[bytes]]:
        return nullcontext(cast(IO[bytes], io.BytesIO(self._get(name))))

    def extent(self, name: str) -> Extent | None:
        return None

    def close(self) -> None:
        pass


def store_from(data: bytes, entry_name: str, extra: dict[str, bytes] | None = None) -> MemoryStore:
    docs = split_documents(data)
    files = dict(extra or {})
    files[entry_name] = docs[0]
    for number, doc in enumerate(docs[1:], start=1):
        hexdigest = hashlib.sha256(doc).hexdigest()
        for name in (f"blobs/sha256/{hexdigest}", f"{hexdigest}.json", f"{hexdigest}/layer.tar"):
            files.setdefault(name, doc)
        files.setdefault(str(number), doc)
    return MemoryStore(files)


def read_layers(image: Image, total: int) -> None:
    """Every entry of every layer, as `layers` reads them; bounded like the tar target."""
    # Each entry takes a 512-byte header of the *uncompressed* tar; deflate expands at most
    # 1032:1, so more entries than this means the parser loops (zstd could go further, but an
    # endless loop passes any bound within a second).
    limit = (total // BLOCK + 1) * _DEFLATE_MAX_RATIO
    for layer in image.layers:
        for count, _entry in enumerate(layer.content.entries(), start=1):
            if count > limit:
                raise ContractViolation("tar-endless", f"more than {limit} entries")
