"""Building the `Image` model from a parsed config and the layer blobs a source located."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trimdock.errors import ImageSourceError
from trimdock.image.model import Image, Layer, LayerContent, pair_history_with_layers

if TYPE_CHECKING:
    from trimdock.image.digests import BlobOpener, Extent
    from trimdock.image.imageconfig import ParsedConfig

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def check_digest(value: str, what: str, source: str) -> str:
    """A `sha256:<64 hex>` digest, or `ImageSourceError` (also keeps blob paths safe)."""
    if not DIGEST.match(value):
        raise ImageSourceError(
            f"{what} has an invalid or unsupported digest {value!r}", source=source
        )
    return value


def layer_label(index: int, diff_id: str) -> str:
    return f"layer {index} ({diff_id[:19]})"


@dataclass(frozen=True)
class BlobRef:
    """Where a source found one layer's bytes."""

    opener: BlobOpener
    size: int | None = None  # stored bytes
    digest: str | None = None  # stored digest when it differs in kind from the DiffID
    media_type: str = ""
    seekable: bool = False
    uncompressed: bool = False  # known to be a plain tar: `size` is the tar size
    extent: Extent | None = None  # the bytes as a range of a file, for hashing by path


def assemble_image(
    *,
    reference: str,
    source: str,
    config_digest: str,
    parsed: ParsedConfig,
    blobs: list[BlobRef],
    repo_tags: tuple[str, ...] = (),
    verify: bool = True,
    contents: list[LayerContent] | None = None,
) -> Image:
    """The `Image` for a config and its layer blobs (one per DiffID, bottom-up)."""
    if len(blobs) != len(parsed.diff_ids):
        raise ImageSourceError(
            f"the manifest lists {len(blobs)} layers but the config has "
            f"{len(parsed.diff_ids)} DiffIDs",
            source=reference,
        )
    for diff_id in parsed.diff_ids:
        check_digest(diff_id, "a config DiffID", reference)
    paired, exact = pair_history_with_layers(parsed.history, len(blobs))
    layers = []
    for index, (blob, diff_id) in enumerate(zip(blobs, parsed.diff_ids, strict=True)):
        content: LayerContent
        if contents is not None:
            content = contents[index]
        else:
            # Imported here: the engine's layer store passes its own contents, and skips the
            # tar reader's decompressors and digest workers.
            from trimdock.image.layer import TarLayer

            content = TarLayer(
                source=reference,
                label=layer_label(index, diff_id),
                opener=blob.opener,
                diff_id=diff_id,
                blob_digest=blob.digest,
                seekable=blob.seekable,
                verify=verify,
                extent=blob.extent,
            )
        layers.append(
            Layer(
                index=index,
                diff_id=diff_id,
                content=content,
                history=paired[index],
                size=blob.size if blob.uncompressed else None,
                blob_digest=blob.digest or (diff_id if blob.uncompressed else None),
                blob_size=blob.size,
                media_type=blob.media_type,
            )
        )
    return Image(
        reference=reference,
        source=source,
        config_digest=config_digest,
        config=parsed.config,
        history=parsed.history,
        layers=tuple(layers),
        repo_tags=repo_tags,
        history_matches_layers=exact,
        raw_config=parsed.raw,
    )
