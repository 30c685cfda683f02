"""Engine access through the Docker SDK: connect, take a `HostState` snapshot, remove things.

Per-layer sizes come from the engine's layer store, `<data-root>/image/<driver>/layerdb/sha256/
<chain-id>/size`: the exact figure the engine computed when it committed the layer (moby's
`directory.Size` of the layer diff), the same number `docker image inspect` sums into `Size`.
The API has no per-layer size call; the history endpoint is ambiguous for layers of size 0 and
`docker save` would copy every image. Reading it needs access to the data root (root on the
engine's host); without it trimdock stops with one clear line instead of guessing.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from trimdock.engine.client import EngineClient
from trimdock.engine.layerdb import LayerDb
from trimdock.errors import EngineError
from trimdock.host.answers import Answer, AnswerReader
from trimdock.host.model import (
    BuildCacheRecord,
    Container,
    HostState,
    Image,
    Layer,
    Volume,
    chain_ids,
)
from trimdock.host.storage import directory_usage

if TYPE_CHECKING:
    import docker

_ZERO_TIME = "0001-01-01T00:00:00Z"
# The engine computes disk usage for one caller at a time and refuses the others ("a disk usage
# operation is already running") instead of queueing them. A computation takes seconds even on
# large hosts; past this wait, the refusal is reported.
DF_BUSY_WAIT_SECONDS = 60.0
_DF_BUSY_POLL_SECONDS = 0.5


def parse_time(value: object) -> datetime | None:
    """Engine timestamps: RFC 3339 with nanoseconds, or Unix seconds; zero time is None.

    Raises ValueError (or TypeError) for anything else; callers name the field.
    """
    if value is None or value == "" or value == _ZERO_TIME:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise TypeError(f"a timestamp must be a string or a number, not {type(value).__name__}")
    text = value.rstrip("Z")
    if "." in text:
        head, _, frac = text.partition(".")
        offset = ""
        for sign in ("+", "-"):
            if sign in frac:
                frac, _, tz = frac.partition(sign)
                offset = sign + tz
        text = f"{head}.{frac[:6]}{offset}"
    parsed = datetime.fromisoformat(text)
    if parsed.year <= 1:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ImageNow:
    """What the apply step re-checks about an image right before removing it."""

    tags: tuple[str, ...]
    diff_ids: tuple[str, ...]


def _refused(exc: EngineError) -> bool:
    """The engine answered with an error status (e.g. 404 for an object removed meanwhile), as
    opposed to not answering or answering nonsense, which end the run."""
    import docker.errors  # loaded with the engine connection (see trimdock.engine.client)

    return isinstance(exc.__cause__, docker.errors.APIError)


def _tags(value: list[str]) -> tuple[str, ...]:
    return tuple(tag for tag in value if tag != "<none>:<none>")


class Engine:
    """One connection to the engine; every call maps failures to `EngineError`, and every
    answer is type-checked (`AnswerReader`) before the snapshot uses it."""

    def __init__(self, client: EngineClient) -> None:
        self.client = client
        self.host = client.host
        self.answers = AnswerReader(client.host)
        self.timeout = client.timeout
        with self.errors("engine info"):
            info = self.answers.obj(client.info(), "engine info")
        self.data_root = Path(
            self.answers.text(info, "DockerRootDir", "engine info") or "/var/lib/docker"
        )
        self.driver = self.answers.text(info, "Driver", "engine info") or "overlay2"
        self.version = self.answers.text(info, "ServerVersion", "engine info")
        self.layer_store = LayerDb(self.data_root, self.driver)

    @property
    def api(self) -> docker.APIClient:
        """The Docker SDK's client (`docker.APIClient`), connected on first use."""
        return self.client.api

    @classmethod
    def connect(cls, budget: float | None = None) -> Engine:
        """The shared engine client (`EngineClient.connect`), plus the engine's info."""
        return cls(EngineClient.connect(budget))

    def errors(self, what: str) -> contextlib.AbstractContextManager[None]:
        return self.client.errors(what)

    def _time(self, answer: Answer, key: str, what: str) -> datetime | None:
        try:
            return parse_time(answer.get(key))
        except (ValueError, TypeError, OverflowError, OSError) as exc:
            raise self.answers.error(what, f"{key}: not a timestamp ({exc})") from exc

    # -- snapshot ---------------------------------------------------------------------------

    @property
    def layerdb(self) -> Path:
        return self.layer_store.root

    def layer(self, chain_id: str, diff_id: str) -> Layer:
        if not self.layerdb.exists():
            raise EngineError(
                "engine layer store not found: per-layer sizes need trimdock to run on the "
                "engine's host with access to its data root",
                source=str(self.layerdb),
            )
        size = self.layer_store.size(chain_id)
        cache_id = self.layer_store.read(chain_id, "cache-id")
        return Layer(chain_id, diff_id, size, cache_id or None)

    def tags(self) -> list[str]:
        """Every `repository:tag` of the local images (no inspection: for shell completion)."""
        read = self.answers
        with self.errors("list images"):
            listed = read.objects(self.client.images(), "list images")
        return sorted(
            {
                tag
                for entry in listed
                for tag in _tags(entry.get("RepoTags") or [])
                if "<none>" not in tag
            }
        )

    def images(self) -> tuple[list[Image], dict[str, Layer]]:
        read = self.answers
        with self.errors("list images"):
            listed = read.objects(self.api.images(all=True), "list images")
        images: list[Image] = []
        layers: dict[str, Layer] = {}
        for entry in listed:
            image_id = read.required_text(entry, "Id", "list images")
            try:
                with self.errors("inspect image"):
                    detail = read.obj(self.api.inspect_image(image_id), "inspect image")
            except EngineError as exc:
                if _refused(exc):
                    continue  # removed by someone else between list and inspect
                raise
            what = f"inspect image {image_id}"
            diff_ids = read.texts(read.table(detail, "RootFS", what), "Layers", what)
            chain = chain_ids(diff_ids)
            for chain_id, diff_id in zip(chain, diff_ids, strict=True):
                if chain_id not in layers:
                    layers[chain_id] = self.layer(chain_id, diff_id)
            created = self._time(detail, "Created", what) or datetime.fromtimestamp(0, UTC)
            images.append(
                Image(
                    id=read.required_text(detail, "Id", what),
                    tags=_tags(read.texts(detail, "RepoTags", what)),
                    parent=read.text(detail, "Parent", what) or None,
                    created=created,
                    chain=chain,
                    size=read.number(detail, "Size", what),
                    last_tagged=self._time(
                        read.table(detail, "Metadata", what), "LastTagTime", what
                    ),
                    labels=read.labels(read.table(detail, "Config", what), "Labels", what),
                )
            )
        return images, layers

    def _mount_dirs(self, container_id: str) -> tuple[str, ...]:
        return self.layer_store.mount_ids(container_id)

    def container(self, summary: Answer) -> Container | None:
        read = self.answers
        container_id = read.required_text(summary, "Id", "disk usage (Containers)")
        try:
            with self.errors("inspect container"):
                detail = read.obj(self.api.inspect_container(container_id), "inspect container")
        except EngineError as exc:
            if _refused(exc):
                return None  # removed between df and inspect
            raise
        what = f"inspect container {container_id}"
        detail_id = read.required_text(detail, "Id", what)
        if "/" in detail_id or detail_id in ("", ".", ".."):
            raise read.error(what, f"Id {detail_id!r} is not a container id")
        log_path = read.text(detail, "LogPath", what) or None
        log_size = 0
        if log_path:
            try:
                log_size = os.stat(log_path).st_size
            except (OSError, ValueError):
                log_size = 0
        state = read.table(detail, "State", what)
        volumes = tuple(
            read.text(m, "Name", what)
            for m in read.objects(detail.get("Mounts"), what)
            if m.get("Type") == "volume"
        )
        files = directory_usage(self.data_root / "containers" / detail_id).bytes
        return Container(
            id=detail_id,
            name=read.text(detail, "Name", what).lstrip("/"),
            image_id=read.text(detail, "Image", what),
            state=read.text(state, "Status", what) or "unknown",
            created=self._time(detail, "Created", what) or datetime.fromtimestamp(0, UTC),
            finished=self._time(state, "FinishedAt", what),
            size_rw=read.number(summary, "SizeRw", "disk usage (Containers)"),
            log_path=log_path,
            log_size=log_size,
            volumes=volumes,
            labels=read.labels(read.table(detail, "Config", what), "Labels", what),
            files_size=files,
            storage_dirs=self._mount_dirs(detail_id),
        )

    def _disk_usage(self) -> Answer:
        """`/system/df`, waiting while another client's computation runs (`docker system df`
        or a second trimdock at the same time)."""
        import docker.errors  # loaded with the engine connection (see trimdock.engine.client)

        deadline = time.monotonic() + DF_BUSY_WAIT_SECONDS
        while True:
            try:
                answer: Answer = self.api.df()
                return answer
            except docker.errors.APIError as exc:
                if "already running" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(_DF_BUSY_POLL_SECONDS)

    def snapshot(self) -> HostState:
        read = self.answers
        taken_at = datetime.now(UTC)
        images, layers = self.images()
        with self.errors("disk usage"):
            usage = read.obj(self._disk_usage(), "disk usage")
        containers = [
            self.container(c)
            for c in read.objects(usage.get("Containers"), "disk usage (Containers)")
        ]
        volumes_what = "disk usage (Volumes)"
        volumes = [
            Volume(
                name=read.required_text(v, "Name", volumes_what),
                driver=read.text(v, "Driver", volumes_what) or "local",
                size=read.number(
                    read.table(v, "UsageData", volumes_what), "Size", volumes_what, -1
                ),
                created=self._time(v, "CreatedAt", volumes_what),
                mountpoint=read.text(v, "Mountpoint", volumes_what) or None,
                labels=read.labels(v, "Labels", volumes_what),
            )
            for v in read.objects(usage.get("Volumes"), volumes_what)
        ]
        cache_what = "disk usage (BuildCache)"
        cache = [
            BuildCacheRecord(
                id=read.text(r, "ID", cache_what),
                type=read.text(r, "Type", cache_what),
                size=read.number(r, "Size", cache_what),
                in_use=read.flag(r, "InUse", cache_what),
                shared=read.flag(r, "Shared", cache_what),
                last_used=self._time(r, "LastUsedAt", cache_what),
                description=read.text(r, "Description", cache_what),
            )
            for r in read.objects(usage.get("BuildCache"), cache_what)
        ]
        return HostState(
            taken_at=taken_at,
            engine_version=self.version,
            data_root=str(self.data_root),
            driver=self.driver,
            images=tuple(images),
            layers=layers,
            containers=tuple(c for c in containers if c is not None),
            volumes=tuple(volumes),
            build_cache=tuple(cache),
        )

    # -- current facts, for re-checks right before a removal ---------------------------------

    def container_images_now(self) -> list[tuple[str, str]]:
        """(name, image id) of every container now."""
        read = self.answers
        with self.errors("list containers"):
            listed = read.objects(self.api.containers(all=True), "list containers")
        return [
            (
                (read.texts(c, "Names", "list containers") or ["?"])[0].lstrip("/"),
                read.text(c, "ImageID", "list containers"),
            )
            for c in listed
        ]

    def image_now(self, image_id: str) -> ImageNow | None:
        read = self.answers
        what = f"inspect image {image_id}"
        try:
            with self.errors("inspect image"):
                detail = read.obj(self.api.inspect_image(image_id), what)
        except EngineError:
            return None  # gone, or unreadable: either way not removed (the safe side)
        return ImageNow(
            tags=_tags(read.texts(detail, "RepoTags", what)),
            diff_ids=tuple(read.texts(read.table(detail, "RootFS", what), "Layers", what)),
        )

    def parents_now(self) -> dict[str, str]:
        read = self.answers
        with self.errors("list images"):
            listed = read.objects(self.api.images(all=True), "list images")
        return {
            read.required_text(i, "Id", "list images"): read.text(i, "ParentId", "list images")
            for i in listed
        }

    def container_status_now(self, container_id: str) -> str | None:
        """The container's state now (running, exited, ...), or None once it is gone."""
        read = self.answers
        what = f"inspect container {container_id}"
        try:
            with self.errors("inspect container"):
                detail = read.obj(self.api.inspect_container(container_id), what)
        except EngineError:
            return None  # gone, or unreadable: either way not removed (the safe side)
        return read.text(read.table(detail, "State", what), "Status", what)

    def volume_users_now(self, name: str) -> list[str]:
        read = self.answers
        with self.errors("list containers"):
            listed = read.objects(
                self.api.containers(all=True, filters={"volume": name}), "list containers"
            )
        return [(read.texts(c, "Names", "list containers") or ["?"])[0].lstrip("/") for c in listed]
