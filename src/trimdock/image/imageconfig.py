"""Parsing the image config JSON (runtime settings, history, DiffIDs) and JSON documents."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trimdock.errors import ImageSourceError
from trimdock.image.model import HistoryEntry, ImageConfig


def load_json(data: bytes, what: str, source: str) -> Any:
    """Any JSON value, or `ImageSourceError` naming the document."""
    try:
        return json.loads(data)
    except RecursionError as exc:
        # The decoder recurses once per nesting level: 100k `[` exhaust Python's stack.
        raise ImageSourceError(f"{what} is nested too deeply to be read", source=source) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageSourceError(f"{what} is not valid JSON ({exc})", source=source) from exc


def parse_json_document(data: bytes, what: str, source: str) -> dict[str, Any]:
    """A JSON object, or `ImageSourceError` naming the document."""
    value = load_json(data, what, source)
    if not isinstance(value, dict):
        raise ImageSourceError(f"{what} is not a JSON object", source=source)
    return value


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    if isinstance(value, str):
        return (value,)
    return ()


def _optional_strings(value: Any) -> tuple[str, ...] | None:
    return None if value is None else _strings(value)


def _keys(value: Any) -> tuple[str, ...]:
    return tuple(sorted(value)) if isinstance(value, Mapping) else ()


@dataclass(frozen=True)
class ParsedConfig:
    config: ImageConfig
    history: tuple[HistoryEntry, ...]
    diff_ids: tuple[str, ...]
    raw: dict[str, Any]


def parse_image_config(data: bytes, source: str) -> ParsedConfig:
    raw = parse_json_document(data, "image config", source)
    rootfs = raw.get("rootfs")
    if not isinstance(rootfs, Mapping) or not isinstance(rootfs.get("diff_ids", []), list):
        raise ImageSourceError("image config has no rootfs.diff_ids", source=source)
    diff_ids = tuple(str(item) for item in rootfs.get("diff_ids") or [])
    runtime = raw.get("config") or {}
    if not isinstance(runtime, Mapping):
        runtime = {}
    labels = runtime.get("Labels") or {}
    healthcheck = runtime.get("Healthcheck")
    config = ImageConfig(
        os=str(raw.get("os", "")),
        architecture=str(raw.get("architecture", "")),
        variant=str(raw.get("variant", "")),
        user=str(runtime.get("User") or ""),
        env=_strings(runtime.get("Env")),
        entrypoint=_optional_strings(runtime.get("Entrypoint")),
        cmd=_optional_strings(runtime.get("Cmd")),
        working_dir=str(runtime.get("WorkingDir") or ""),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items()))
        if isinstance(labels, Mapping)
        else (),
        exposed_ports=_keys(runtime.get("ExposedPorts")),
        healthcheck=_optional_strings(healthcheck.get("Test"))
        if isinstance(healthcheck, Mapping)
        else None,
        volumes=_keys(runtime.get("Volumes")),
        stop_signal=str(runtime.get("StopSignal") or ""),
    )
    history = tuple(
        HistoryEntry(
            created_by=str(item.get("created_by") or ""),
            created=str(item["created"]) if item.get("created") else None,
            comment=str(item.get("comment") or ""),
            empty_layer=bool(item.get("empty_layer", False)),
            author=str(item.get("author") or ""),
        )
        for item in raw.get("history") or []
        if isinstance(item, Mapping)
    )
    return ParsedConfig(config=config, history=history, diff_ids=diff_ids, raw=raw)
