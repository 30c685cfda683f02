"""`trimdock cache info|clear`: the per-layer result cache (see trimdock.cache.store)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console

from trimdock.cache.store import CacheUsage, ResultCache
from trimdock.cli.common import FormatOption, NoColorOption, OutputOptions, QuietOption, deliver
from trimdock.report.output import OutputFormat
from trimdock.report.units import count, human_bytes


class CacheAction(StrEnum):
    INFO = "info"
    CLEAR = "clear"


def register(app: typer.Typer) -> None:
    app.command("cache")(cache)


def cache(
    action: Annotated[
        CacheAction,
        typer.Argument(help="info: where the cache is and how big; clear: empty it."),
    ],
    format: FormatOption = OutputFormat.TEXT,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
) -> None:
    """The per-layer result cache: layers read once are not read again.

    Kept in $TRIMDOCK_CACHE_DIR, else $XDG_CACHE_HOME/trimdock, else ~/.cache/trimdock;
    bounded by TRIMDOCK_CACHE_MAX (default 500MB; 0 turns it off), least recently used first.
    """
    store = ResultCache.default()
    removed = store.clear() if action is CacheAction.CLEAR else None
    usage = store.usage()
    deliver(
        OutputOptions(format, None, no_color, quiet),
        json_data=lambda: usage_json(usage, removed),
        render_text=lambda console: render_usage(console, usage, removed),
    )


def usage_json(usage: CacheUsage, removed: int | None) -> dict[str, Any]:
    return {
        "schema": "trimdock/cache/1",
        "directory": str(usage.root),
        "files": usage.files,
        "bytes": usage.bytes,
        "limit_bytes": usage.limit,
        "removed_files": removed,
    }


def render_usage(console: Console, usage: CacheUsage, removed: int | None) -> None:
    if removed is not None:
        console.print(f"removed {count(removed, 'cached result')}")
    state = "off" if usage.limit == 0 else f"limit {human_bytes(usage.limit)}"
    console.print(
        f"{usage.root}: {count(usage.files, 'cached result')}, "
        f"{human_bytes(usage.bytes)} ({state})",
        soft_wrap=True,
    )
