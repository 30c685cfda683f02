"""The local engine (`docker-daemon:NAME` and bare `NAME[:TAG]`) through the Docker SDK.

How it reads an image without writing the archive to disk:

1. `inspect` gives the config digest (the image id) and the DiffIDs.
2. One pass over the `save` stream (legacy `<id>/layer.tar` folders or Engine >= 25 `blobs/`):
   every layer tar is parsed as it streams by, its headers kept as `LayerEntry` values and its
   bytes hashed; the hash *is* its DiffID, which pairs it with the config's layer list whatever
   the member order or folder names (they are synthetic). JSON members are kept; the one whose
   sha256 equals the image id is the config (history, runtime settings). A DiffID the stream
   did not deliver, or a config that does not hash to the id, is an error.
3. `entries()` then serves the kept headers (memory grows with the number of entries, never
   with layer bytes). The same pass keeps what the reclaim analysis reads
   (`trimdock.image.kept`: package database files, digests of files big enough to be
   duplicates), so `layers NAME` never saves twice; and what the caller's `BodyRequest`
   asks for (`scan`'s selected files), so `scan NAME` never saves twice either. `open()`
   needs other file bytes (or bytes past the request's budget): the first call saves the
   image once more into an anonymous temporary archive (freed when the `open_image` block
   ends), with a one-line note, and reads it with the docker-archive source, digests verified.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from trimdock.engine.client import EngineClient
from trimdock.errors import ImageSourceError, UsageError
from trimdock.image.assemble import BlobRef, assemble_image, layer_label
from trimdock.image.imageconfig import parse_image_config, sha256_digest
from trimdock.image.layerstore import StoreUnavailable, open_store_image, store_unavailable
from trimdock.image.model import EntryType, Image, LayerContent, LayerEntry
from trimdock.image.reference import ImageReference, Transport
from trimdock.image.tarparse import FileReader, TarFormatError, Window, parse
from trimdock.report.progress import current
from trimdock.report.units import count, human_bytes

if TYPE_CHECKING:
    from trimdock.image.kept import BodyRequest, KeptLayer
    from trimdock.image.layer import TarLayer

SAVE_CHUNK = 1 << 20


class ChunkStream(io.RawIOBase):
    """A readable file over an iterator of byte chunks (the engine's save stream)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._buffer = memoryview(b"")
        self._progress = current()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = memoryview(chunk)
            self._progress.step(done=len(chunk))
        size = min(len(buffer), len(self._buffer))
        buffer[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


class _CachedLayer:
    """A daemon layer: headers, kept bodies, digests and requested reads from the streaming
    pass, other bytes from a lazily saved archive (`trimdock.image.kept.KeptBodies`,
    `KeptReads`)."""

    def __init__(
        self,
        entries: tuple[LayerEntry, ...],
        diff_id: str,
        archive: Callable[[str], TarLayer],
        kept: KeptLayer,
    ) -> None:
        self._entries = entries
        self._diff_id = diff_id
        self._archive = archive
        self._kept = kept

    def kept_body(self, path: str) -> bytes | None:
        return self._kept.bodies.get(path)

    def kept_digest(self, path: str) -> str | None:
        return self._kept.digests.get(path)

    def kept_reads(self) -> Mapping[int, bytes | None]:
        return self._kept.reads

    def entries(self) -> Iterator[LayerEntry]:
        return iter(self._entries)

    def open(self) -> AbstractContextManager[Iterator[tuple[LayerEntry, IO[bytes] | None]]]:
        return self._archive(self._diff_id).open()


class _Scan:
    """What one pass over the save stream found."""

    def __init__(self, source: str, request: BodyRequest[Any] | None = None) -> None:
        # The save path's readers (tar layers, kept bodies) are imported when it runs: a
        # `layers NAME` run that reads the engine's layer store never needs them.
        from trimdock.image.kept import Keeper

        self.source = source
        self.keeper = Keeper(request)
        self.entries: dict[str, tuple[LayerEntry, ...]] = {}
        self.sizes: dict[str, int] = {}
        self.documents: dict[str, bytes] = {}  # sha256 digest -> JSON bytes
        self.kept: dict[str, KeptLayer] = {}

    @property
    def reads_total(self) -> int:
        return self.keeper.reads_total

    @property
    def reads_dropped(self) -> int:
        return self.keeper.reads_dropped


def _scan_save_stream(stream: IO[bytes], scan: _Scan) -> None:
    from trimdock.image.store import MAX_DOCUMENT  # the save path only (see _Scan)

    # The outer tar goes through the same header parser as the layers (tarfile's stream mode
    # copies every byte twice more); member bytes are read through the parser's window.
    outer = Window(stream=stream)
    try:
        for member, offset in parse(outer):
            if member.type is not EntryType.FILE:
                continue  # symlinked layer.tar: same DiffID as its target, scanned once
            reader = cast(IO[bytes], FileReader(outer, offset, member.size))
            name = member.path
            if member.size <= MAX_DOCUMENT and (
                name.endswith(".json") or name.startswith("blobs/") or "/" not in name
            ):
                head = reader.read(1)
                if head in (b"{", b"["):
                    data = head + reader.read()
                    scan.documents[sha256_digest(data)] = data
                    continue
                reader = cast(IO[bytes], _Prefixed(head, reader))
            elif not name.endswith("layer.tar"):
                continue
            _scan_layer(reader, name, scan)
    except TarFormatError as exc:
        raise ImageSourceError(
            f"the engine's save stream is not a valid tar ({exc})", source=scan.source
        ) from exc


class _Prefixed(io.RawIOBase):
    def __init__(self, head: bytes, raw: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = len(self._head)
            buffer[:size] = self._head
            self._head = b""
            return size
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _scan_layer(reader: IO[bytes], name: str, scan: _Scan) -> None:
    """Parse one layer tar from the stream, keep its headers under the DiffID it hashes to."""
    from trimdock.image.kept import KeptLayer  # the save path only (see _Scan)
    from trimdock.image.layer import TarLayer

    current().step(f"layer {len(scan.entries)}")
    probe = TarLayer(
        source=scan.source,
        label=f"layer {name}",
        opener=lambda: _nullcontext(reader),
        diff_id="",
        verify=True,
    )
    kept = KeptLayer()
    with probe.open() as items:
        found = list(scan.keeper.keeping(items, kept))
    if probe.computed_diff_id:
        scan.entries[probe.computed_diff_id] = tuple(found)
        scan.sizes[probe.computed_diff_id] = probe.uncompressed_size or 0
        scan.kept[probe.computed_diff_id] = kept


@contextmanager
def _nullcontext(value: IO[bytes]) -> Iterator[IO[bytes]]:
    yield value


READER_VARIABLE = "TRIMDOCK_ENGINE_READER"
READERS = ("auto", "store", "save")


def engine_reader() -> str:
    """How to read engine images: `auto` (the layer store when possible, else the save
    stream), or only `store` / only `save` (TRIMDOCK_ENGINE_READER; tests compare the two)."""
    value = (os.environ.get(READER_VARIABLE) or "auto").strip().lower()
    if value not in READERS:
        raise UsageError(
            f"expected one of {', '.join(READERS)}, got {value!r}", source=READER_VARIABLE
        )
    return value


@contextmanager
def open_daemon_image(
    ref: ImageReference,
    *,
    verify: bool = True,
    note: Callable[[str], None],
    keep: BodyRequest[Any] | None = None,
) -> Iterator[Image]:
    """An engine image: from the engine's layer store when this machine can read it
    (`trimdock.image.layerstore`), else from its save stream, with a one-line `note` why.
    `keep` is only needed on the save path (the store opens single files cheaply)."""
    reader = engine_reader()
    with ExitStack() as stack:
        client = EngineClient.connect(image=ref.text)
        stack.callback(client.close)
        if reader != "save":
            with client.errors("inspect the image"):
                attrs = client.inspect_image(ref.target)
            data_root, driver = client.storage()
            reason = store_unavailable(client, data_root, driver)
            if reason is None:
                try:
                    yield open_store_image(client, ref, attrs, data_root)
                    return
                except StoreUnavailable as exc:
                    reason = str(exc)
            if reader == "store":
                raise ImageSourceError(
                    f"cannot read the engine's layer store: {reason}", source=ref.text
                )
            note(f"{ref.text}: reading the image through docker save: {reason}")
        yield stack.enter_context(
            open_saved_image(client, ref, verify=verify, keep=keep, note=note)
        )


@contextmanager
def open_saved_image(
    client: EngineClient,
    ref: ImageReference,
    *,
    verify: bool = True,
    keep: BodyRequest[Any] | None = None,
    note: Callable[[str], None] | None = None,
) -> Iterator[Image]:
    """The image through one pass over the engine's `docker save` stream (module docstring),
    keeping what `keep` asks for; `note` hears when a second save is needed after all."""
    source = ref.text
    with ExitStack() as stack:
        with client.errors("inspect the image"):
            attrs = client.inspect_image(ref.target)
        image_id = str(attrs.get("Id", ""))
        diff_ids = [str(d) for d in (attrs.get("RootFS") or {}).get("Layers") or []]
        scan = _Scan(source, keep)

        def save_stream() -> Iterator[bytes]:
            # By id, not name: the stream then carries no tags (as the engine's `named=False`).
            chunks: Iterator[bytes] = client.api.get_image(image_id, chunk_size=SAVE_CHUNK)
            return chunks

        current().phase("reading the engine's save stream", total=None)
        with client.errors("stream the image (save)"):
            _scan_save_stream(
                cast(IO[bytes], io.BufferedReader(ChunkStream(save_stream()), SAVE_CHUNK)), scan
            )
        config_bytes = scan.documents.get(image_id)
        if config_bytes is None:
            raise ImageSourceError(
                f"the engine's save stream has no config matching the image id {image_id}",
                source=source,
            )
        parsed = parse_image_config(config_bytes, source)
        if list(parsed.diff_ids) != diff_ids:
            raise ImageSourceError(
                "the engine's inspect and the saved config disagree on the layers", source=source
            )
        # Said only when a request went over its budget: callers that ask for no bodies
        # (`--export`, `explore`) save again by design, and know it.
        why = None
        if keep is not None and scan.reads_dropped:
            why = (
                f"{count(scan.reads_dropped, 'file body', 'file bodies')} to read went past "
                f"the {human_bytes(keep.budget)} kept from the first pass"
            )
        archive = _LazyArchive(source, client, save_stream, stack, verify, note, why)
        contents: list[LayerContent] = []
        blobs: list[BlobRef] = []
        for index, diff_id in enumerate(parsed.diff_ids):
            if diff_id not in scan.entries:
                raise ImageSourceError(
                    f"{layer_label(index, diff_id)}: not in the engine's save stream, "
                    "or its content does not hash to its DiffID",
                    source=source,
                )
            contents.append(
                _CachedLayer(scan.entries[diff_id], diff_id, archive.layer, scan.kept[diff_id])
            )
            blobs.append(
                BlobRef(
                    opener=archive.unavailable,
                    size=scan.sizes[diff_id],
                    media_type="application/vnd.docker.image.rootfs.diff.tar",
                    uncompressed=True,
                )
            )
        yield assemble_image(
            reference=source,
            source="docker-daemon",
            config_digest=image_id,
            parsed=parsed,
            blobs=blobs,
            repo_tags=tuple(str(tag) for tag in attrs.get("RepoTags") or []),
            verify=verify,
            contents=contents,
        )


class _LazyArchive:
    """The image saved into a temporary archive on first need (for file bytes)."""

    def __init__(
        self,
        source: str,
        client: EngineClient,
        stream: Callable[[], Iterator[bytes]],
        stack: ExitStack,
        verify: bool,
        note: Callable[[str], None] | None,
        why: str | None,
    ) -> None:
        self._source = source
        self._client = client
        self._stream = stream
        self._stack = stack
        self._verify = verify
        self._note = note
        self._why = why
        self._layers: dict[str, TarLayer] | None = None

    def unavailable(self) -> AbstractContextManager[IO[bytes]]:
        raise ImageSourceError(
            "layer blobs are read through the layer content", source=self._source
        )

    def layer(self, diff_id: str) -> TarLayer:
        if self._layers is None:
            self._layers = self._save()
        return self._layers[diff_id]

    def _save(self) -> dict[str, TarLayer]:
        from trimdock.image.files import load_store  # the save path only (see _Scan)
        from trimdock.image.store import TarStore

        # An anonymous temporary file (O_TMPFILE): no name to clean up, whatever interrupts
        # the save. It stays open for the `open_image` block; the store reads it by its
        # /proc path, which the hashing worker process can open too.
        out = self._stack.enter_context(
            tempfile.TemporaryFile(prefix="trimdock-save-", suffix=".tar")  # noqa: SIM115
        )
        path = Path(f"/proc/{os.getpid()}/fd/{out.fileno()}")
        if self._note is not None and self._why is not None:
            self._note(f"{self._source}: saving the image a second time: {self._why}")

        with self._client.errors("save the image"):
            for chunk in self._stream():
                out.write(chunk)
            out.flush()
        store = TarStore(path, self._source)
        self._stack.callback(store.close)
        image = load_store(
            store,
            reference=self._source,
            transport=Transport.ARCHIVE,
            selector=None,
            platform=None,
            verify=self._verify,
        )
        return {layer.diff_id: cast("TarLayer", layer.content) for layer in image.layers}
