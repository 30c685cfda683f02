"""An engine image read from the engine's own overlay2 layer store: no `docker save` at all.

For `NAME` on a local overlay2 engine whose data root trimdock can read (root on the engine's
host), the image is taken where the engine keeps it:

* the config from `image/overlay2/imagedb/content/sha256/<image id>` (checked against the id);
* per layer, by ChainID, `image/overlay2/layerdb/sha256/<chain-id>/`: `diff` (must be the
  config's DiffID), `cache-id` (the layer's folder `overlay2/<cache-id>/diff`) and
  `tar-split.json.gz`, the layer tar's headers as the engine recorded them when it registered
  the layer (`trimdock.image.tarsplit`);
* file bodies, only when an analysis opens them, from `overlay2/<cache-id>/diff/<path>`.

Headers read once are kept by DiffID in the result cache (`trimdock.image.layercache`): a layer
shared by many images (their base) is read once.

The headers are the ones `docker save` would stream (it replays the same tar-split), so every
analysis gives the save path's figures, byte for byte, including each layer's tar size; the
unpacked folder alone could not say which name of a hard-linked file the tar stored, in what
order, or how big the tar was. The engine verified each layer's DiffID when it registered it;
here the chain is checked (ChainIDs from the config's DiffIDs, each layer's recorded DiffID).

Anything missing or unreadable raises `StoreUnavailable`; the caller then falls back to the
save stream.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from trimdock.engine.client import EngineClient
from trimdock.engine.layerdb import LayerDb, chain_ids
from trimdock.errors import EngineError, ImageSourceError
from trimdock.image.assemble import BlobRef, assemble_image, layer_label
from trimdock.image.imageconfig import ParsedConfig, parse_image_config
from trimdock.image.layercache import DecodeError, LayerCache, iter_decode, tar_size_of
from trimdock.image.model import EntryType, Image, LayerContent, LayerEntry
from trimdock.image.reference import ImageReference
from trimdock.image.tarentry import is_unsafe_path
from trimdock.image.tarsplitpool import TarSplitError, encode_layers
from trimdock.report.progress import current

DRIVER = "overlay2"
LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar"


class StoreUnavailable(Exception):
    """The layer store cannot serve this image; the message says why (one line)."""


def store_unavailable(client: EngineClient, data_root: Path, driver: str) -> str | None:
    """Why the layer store cannot be read for this engine, or None when it can."""
    if not client.local:
        return f"the engine is reached over the network ({client.host}), not a local socket"
    if driver != DRIVER:
        return f"the engine's storage driver is {driver or 'unknown'}, not {DRIVER}"
    layerdb = LayerDb(data_root, driver).root
    if not os.access(layerdb, os.R_OK | os.X_OK):
        return (
            f"its layer store ({layerdb}) is not readable here (run as root on the engine's host)"
        )
    return None


@dataclass(frozen=True)
class _StoreLayer:
    """A layer's headers (from its tar-split, kept encoded: a few bytes an entry, decoded when
    an analysis reads them) and its unpacked folder for file bodies."""

    source: str
    label: str
    folder: Path
    encoded: bytes

    def headers(self) -> Iterator[LayerEntry]:
        try:
            yield from iter_decode(self.encoded)
        except DecodeError:
            raise self.error("its cached headers do not decode (trimdock cache clear)") from None

    def entries(self) -> Iterator[LayerEntry]:
        return self.headers()

    def open(self) -> AbstractContextManager[Iterator[tuple[LayerEntry, IO[bytes] | None]]]:
        return self._open()

    @contextmanager
    def _open(self) -> Iterator[Iterator[tuple[LayerEntry, IO[bytes] | None]]]:
        readers: list[_BodyReader] = []
        try:
            yield self._with_bodies(readers)
        finally:
            for reader in readers:
                reader.close()

    def _with_bodies(
        self, readers: list[_BodyReader]
    ) -> Iterator[tuple[LayerEntry, IO[bytes] | None]]:
        for entry in self.headers():
            if entry.type is not EntryType.FILE:
                yield entry, None
                continue
            if readers:
                readers.pop().close()  # a body is valid until the next entry
            reader = _BodyReader(self, entry)
            readers.append(reader)
            yield entry, cast(IO[bytes], reader)

    def error(self, problem: str) -> ImageSourceError:
        return ImageSourceError(f"{self.label}: {problem}", source=self.source)


def _open_beneath(root: Path, path: str) -> int:
    """Open `root/path` without following any symlink on the way (the folder holds the image's
    own symlinks, which may point anywhere on this machine)."""
    parts = path.split("/")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            child = os.open(
                part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
            )
            os.close(fd)
            fd = child
        return os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
    finally:
        os.close(fd)


class _BodyReader:
    """One regular file's bytes from the layer folder, opened on the first read."""

    def __init__(self, layer: _StoreLayer, entry: LayerEntry) -> None:
        self._layer = layer
        self._entry = entry
        self._file: IO[bytes] | None = None
        self._left = entry.size

    def _opened(self) -> IO[bytes]:
        if self._file is None:
            path = self._entry.path
            if is_unsafe_path(path):
                raise self._layer.error(f"path {path!r} climbs above the image root")
            try:
                fd = _open_beneath(self._layer.folder, path)
            except OSError as exc:
                problem = "a symlink on its way" if exc.errno == errno.ELOOP else exc.strerror
                raise self._layer.error(
                    f"cannot read {path!r} from the layer store ({problem})"
                ) from exc
            file = os.fdopen(fd, "rb")
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size != self._entry.size:
                file.close()
                raise self._layer.error(
                    f"{path!r} in the layer store is not the file its tar header describes"
                )
            self._file = file
        return self._file

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        if size is None or size < 0 or size > self._left:
            size = self._left
        data = self._opened().read(size)
        self._left -= len(data)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StoreUnavailable(f"cannot read {what} ({exc.strerror})") from exc


def _record_size(folder: Path) -> int:
    try:
        return (folder / "tar-split.json.gz").stat().st_size
    except OSError:
        return 0  # reported when the layer is read


def _encoded_headers(
    parsed: ParsedConfig,
    folders: list[tuple[Path, Path]],
    layers: list[int],
    done: Callable[[int], None],
) -> list[bytes]:
    """The headers of `layers` (indexes) from their tar-splits, encoded
    (`trimdock.image.layercache`) as they are parsed: the entries of a big layer never all
    exist as objects at once."""
    paths = [folders[index][0] / "tar-split.json.gz" for index in layers]
    try:
        return encode_layers(paths, done)
    except TarSplitError as exc:
        index = layers[exc.index]
        what = layer_label(index, parsed.diff_ids[index])
        if isinstance(exc.cause, OSError):
            raise StoreUnavailable(f"cannot read the tar-split of {what} ({exc.cause})") from exc
        raise StoreUnavailable(f"the tar-split of {what} is not usable ({exc.cause})") from exc


def open_store_image(
    client: EngineClient, ref: ImageReference, attrs: dict[str, Any], data_root: Path
) -> Image:
    """The image `attrs` (the engine's inspect answer) describes, from the layer store."""
    source = ref.text
    image_id = str(attrs.get("Id", ""))
    store = data_root / "image" / DRIVER
    config_bytes = _read_file(
        store / "imagedb" / "content" / "sha256" / image_id.removeprefix("sha256:"),
        "the image config",
    )
    if "sha256:" + hashlib.sha256(config_bytes).hexdigest() != image_id:
        raise StoreUnavailable("the stored image config does not match the image id")
    parsed = parse_image_config(config_bytes, source)
    inspected = [str(d) for d in (attrs.get("RootFS") or {}).get("Layers") or []]
    if list(parsed.diff_ids) != inspected:
        raise StoreUnavailable("the stored config and the engine's inspect disagree on the layers")
    try:
        return _assemble(source, image_id, parsed, attrs, data_root)
    except EngineError as exc:  # an unreadable layerdb file
        raise StoreUnavailable(str(exc)) from exc


def _assemble(
    source: str, image_id: str, parsed: ParsedConfig, attrs: dict[str, Any], data_root: Path
) -> Image:
    layerdb = LayerDb(data_root, DRIVER)
    contents: list[LayerContent] = []
    blobs: list[BlobRef] = []
    chains = chain_ids(parsed.diff_ids)
    records = [_record_size(layerdb.folder(chain_id)) for chain_id in chains]
    cache = LayerCache()
    progress = current()
    progress.phase("reading layers", total=sum(records))
    folders: list[tuple[Path, Path]] = []  # (layerdb folder, overlay2 diff folder) per layer
    for index, (diff_id, chain_id) in enumerate(zip(parsed.diff_ids, chains, strict=True)):
        label = layer_label(index, diff_id)
        folder = layerdb.folder(chain_id)
        if layerdb.read(chain_id, "diff") != diff_id:
            raise StoreUnavailable(f"{label}: not in the layer store under its ChainID")
        cache_id = layerdb.read(chain_id, "cache-id")
        diff = data_root / DRIVER / cache_id / "diff"
        if not cache_id or "/" in cache_id or not diff.is_dir():
            raise StoreUnavailable(f"{label}: its overlay2 folder is missing")
        folders.append((folder, diff))
    encoded = [cache.load_encoded(diff_id) for diff_id in parsed.diff_ids]
    missing = [index for index, found in enumerate(encoded) if found is None]
    for index, found in enumerate(encoded):
        if found is not None:
            progress.step(f"layer {index}", done=records[index])
    # The layers not in the cache are read together: on two cores when there is enough work.
    read = _encoded_headers(
        parsed,
        folders,
        missing,
        lambda at: progress.step(f"layer {missing[at]}", done=records[missing[at]]),
    )
    for index, headers in zip(missing, read, strict=True):
        cache.save_encoded(parsed.diff_ids[index], headers)
        encoded[index] = headers
    for index, ((_, diff), found) in enumerate(zip(folders, encoded, strict=True)):
        assert found is not None
        label = layer_label(index, parsed.diff_ids[index])
        contents.append(_StoreLayer(source, label, diff, found))
        tar_size = tar_size_of(found) or 0
        blobs.append(
            BlobRef(opener=_no_blob, size=tar_size, media_type=LAYER_MEDIA_TYPE, uncompressed=True)
        )
    return assemble_image(
        reference=source,
        source="docker-daemon",
        config_digest=image_id,
        parsed=parsed,
        blobs=blobs,
        repo_tags=tuple(str(tag) for tag in attrs.get("RepoTags") or []),
        contents=contents,
    )


def _no_blob() -> AbstractContextManager[IO[bytes]]:
    raise ImageSourceError("layer blobs are read through the layer content")
