"""Engine access through the Docker SDK: connect, take a `HostState` snapshot, remove things.

Per-layer sizes come from the engine's layer store, `<data-root>/image/<driver>/layerdb/sha256/
<chain-id>/size`: the exact figure the engine computed when it committed the layer (moby's
`directory.Size` of the layer diff), the same number `docker image inspect` sums into `Size`.
The API has no per-layer size call; the history endpoint is ambiguous for layers of size 0 and
`docker save` would copy every image. Reading it needs access to the data root (root on the
engine's host); without it trimdock stops with one clear line instead of guessing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests

from trimdock.errors import EngineError
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

_ZERO_TIME = "0001-01-01T00:00:00Z"


def _host_label() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _socket_path(host: str) -> str | None:
    if host.startswith("unix://"):
        return host.removeprefix("unix://")
    return None


def describe_connection_error(exc: BaseException, host: str) -> str:
    """Turn the SDK's nested connection errors into one sentence a user can act on."""
    text = str(exc)
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, PermissionError) or "Permission denied" in str(cause):
            return (
                "permission denied on the engine socket "
                "(run as root or as a member of the socket's group, e.g. docker)"
            )
        if isinstance(cause, FileNotFoundError) or "No such file or directory" in str(cause):
            return "no engine socket there: is dockerd running? (bash scripts/engine-up.sh)"
        if isinstance(cause, ConnectionRefusedError) or "Connection refused" in str(cause):
            return "connection refused: is dockerd running? (bash scripts/engine-up.sh)"
        cause = cause.__cause__ or cause.__context__
    socket = _socket_path(host)
    if socket and not os.path.exists(socket):
        return "no engine socket there: is dockerd running? (bash scripts/engine-up.sh)"
    if socket and not os.access(socket, os.R_OK | os.W_OK):
        return "permission denied on the engine socket (run as root or join its group)"
    return f"cannot reach the Docker Engine: {text.splitlines()[0] if text else type(exc).__name__}"


@contextmanager
def engine_errors(host: str, what: str) -> Iterator[None]:
    try:
        yield
    except docker.errors.APIError as exc:
        raise EngineError(f"{what}: {exc.explanation or exc}", source=host) from exc
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        raise EngineError(describe_connection_error(exc, host), source=host) from exc


def parse_time(value: str | int | None) -> datetime | None:
    """Engine timestamps: RFC 3339 with nanoseconds, or Unix seconds; zero time is None."""
    if value is None or value == "" or value == _ZERO_TIME:
        return None
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
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


def _labels(value: Mapping[str, str] | None) -> dict[str, str]:
    return dict(value or {})


def _tags(value: list[str] | None) -> tuple[str, ...]:
    return tuple(tag for tag in (value or []) if tag != "<none>:<none>")


class Engine:
    """One connection to the engine; every call maps failures to `EngineError`."""

    def __init__(self, api: docker.APIClient, host: str) -> None:
        self.api = api
        self.host = host
        with engine_errors(host, "engine info"):
            info = api.info()
        self.data_root = Path(info.get("DockerRootDir") or "/var/lib/docker")
        self.driver = str(info.get("Driver") or "overlay2")
        self.version = str(info.get("ServerVersion") or "")

    @classmethod
    def connect(cls, timeout: int = 120) -> Engine:
        host = _host_label()
        with engine_errors(host, "connect"):
            client = docker.from_env(timeout=timeout)
            api: docker.APIClient = client.api
            api.ping()
        return cls(api, host)

    # -- snapshot ---------------------------------------------------------------------------

    @property
    def layerdb(self) -> Path:
        return self.data_root / "image" / self.driver / "layerdb"

    def _read(self, path: Path) -> str:
        try:
            return path.read_text().strip()
        except PermissionError as exc:
            raise EngineError(
                "permission denied reading the engine's layer store; per-layer sizes need "
                "read access to the data root (run trimdock as root on the engine's host)",
                source=str(path),
            ) from exc
        except FileNotFoundError:
            return ""

    def layer(self, chain_id: str, diff_id: str) -> Layer:
        directory = self.layerdb / "sha256" / chain_id.removeprefix("sha256:")
        if not self.layerdb.exists():
            raise EngineError(
                "engine layer store not found: per-layer sizes need trimdock to run on the "
                "engine's host with access to its data root",
                source=str(self.layerdb),
            )
        size = self._read(directory / "size")
        cache_id = self._read(directory / "cache-id")
        return Layer(chain_id, diff_id, int(size or 0), cache_id or None)

    def images(self) -> tuple[list[Image], dict[str, Layer]]:
        with engine_errors(self.host, "list images"):
            listed = self.api.images(all=True)
        images: list[Image] = []
        layers: dict[str, Layer] = {}
        for entry in listed:
            try:
                with engine_errors(self.host, "inspect image"):
                    detail = self.api.inspect_image(entry["Id"])
            except EngineError:
                continue  # removed by someone else between list and inspect
            diff_ids = list((detail.get("RootFS") or {}).get("Layers") or [])
            chain = chain_ids(diff_ids)
            for chain_id, diff_id in zip(chain, diff_ids, strict=True):
                if chain_id not in layers:
                    layers[chain_id] = self.layer(chain_id, diff_id)
            created = parse_time(detail.get("Created")) or datetime.fromtimestamp(0, UTC)
            images.append(
                Image(
                    id=detail["Id"],
                    tags=_tags(detail.get("RepoTags")),
                    parent=detail.get("Parent") or None,
                    created=created,
                    chain=chain,
                    size=int(detail.get("Size") or 0),
                    last_tagged=parse_time((detail.get("Metadata") or {}).get("LastTagTime")),
                    labels=_labels((detail.get("Config") or {}).get("Labels")),
                )
            )
        return images, layers

    def _mount_dirs(self, container_id: str) -> tuple[str, ...]:
        mounts = self.layerdb / "mounts" / container_id
        result = []
        for name in ("mount-id", "init-id"):
            try:
                value = (mounts / name).read_text().strip()
            except OSError:
                continue
            if value:
                result.append(value)
        return tuple(result)

    def container(self, summary: Mapping[str, Any]) -> Container | None:
        try:
            with engine_errors(self.host, "inspect container"):
                detail = self.api.inspect_container(summary["Id"])
        except EngineError:
            return None
        log_path = detail.get("LogPath") or None
        log_size = 0
        if log_path:
            try:
                log_size = os.stat(log_path).st_size
            except OSError:
                log_size = 0
        state = detail.get("State") or {}
        volumes = tuple(m["Name"] for m in detail.get("Mounts") or [] if m.get("Type") == "volume")
        files = directory_usage(self.data_root / "containers" / detail["Id"]).bytes
        return Container(
            id=detail["Id"],
            name=str(detail.get("Name") or "").lstrip("/"),
            image_id=detail.get("Image") or "",
            state=str(state.get("Status") or "unknown"),
            created=parse_time(detail.get("Created")) or datetime.fromtimestamp(0, UTC),
            finished=parse_time(state.get("FinishedAt")),
            size_rw=int(summary.get("SizeRw") or 0),
            log_path=log_path,
            log_size=log_size,
            volumes=volumes,
            labels=_labels((detail.get("Config") or {}).get("Labels")),
            files_size=files,
            storage_dirs=self._mount_dirs(detail["Id"]),
        )

    def snapshot(self) -> HostState:
        taken_at = datetime.now(UTC)
        images, layers = self.images()
        with engine_errors(self.host, "disk usage"):
            usage = self.api.df()
        containers = [self.container(c) for c in usage.get("Containers") or []]
        volumes = [
            Volume(
                name=v["Name"],
                driver=v.get("Driver") or "local",
                size=int((v.get("UsageData") or {}).get("Size", -1)),
                created=parse_time(v.get("CreatedAt")),
                mountpoint=v.get("Mountpoint"),
                labels=_labels(v.get("Labels")),
            )
            for v in usage.get("Volumes") or []
        ]
        cache = [
            BuildCacheRecord(
                id=r.get("ID", ""),
                type=r.get("Type", ""),
                size=int(r.get("Size") or 0),
                in_use=bool(r.get("InUse")),
                shared=bool(r.get("Shared")),
                last_used=parse_time(r.get("LastUsedAt")),
                description=r.get("Description", ""),
            )
            for r in usage.get("BuildCache") or []
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

    def containers_now(self) -> list[dict[str, Any]]:
        with engine_errors(self.host, "list containers"):
            result: list[dict[str, Any]] = self.api.containers(all=True)
        return result

    def image_now(self, image_id: str) -> dict[str, Any] | None:
        try:
            with engine_errors(self.host, "inspect image"):
                result: dict[str, Any] = self.api.inspect_image(image_id)
                return result
        except EngineError:
            return None

    def parents_now(self) -> dict[str, str]:
        with engine_errors(self.host, "list images"):
            listed = self.api.images(all=True)
        return {i["Id"]: i.get("ParentId") or "" for i in listed}

    def container_now(self, container_id: str) -> dict[str, Any] | None:
        try:
            with engine_errors(self.host, "inspect container"):
                result: dict[str, Any] = self.api.inspect_container(container_id)
                return result
        except EngineError:
            return None

    def volume_users_now(self, name: str) -> list[str]:
        with engine_errors(self.host, "list containers"):
            listed = self.api.containers(all=True, filters={"volume": name})
        return [str((c.get("Names") or ["?"])[0]).lstrip("/") for c in listed]
