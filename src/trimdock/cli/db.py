"""`trimdock db update|status`: the local OSV vulnerability database `scan` reads."""

from __future__ import annotations

import datetime as dt
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from trimdock.cli.help import name_values
from trimdock.report.output import to_json_text
from trimdock.security.vuln.database import default_db_dir
from trimdock.security.vuln.update import (
    DEFAULT_BASE_URL,
    EcosystemStatus,
    database_status,
    update_database,
)


class _Group(TyperGroup):
    """Readable metavars for the subcommands too (the root group does it for its own)."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            name_values(command)
        return command


db_app = typer.Typer(
    cls=_Group,
    name="db",
    help="The local OSV vulnerability database that `trimdock scan` reads (offline).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


@db_app.command("update")
def update(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Base URL of the OSV exports (BASE/ECOSYSTEM/all.zip); default "
            "$TRIMDOCK_OSV_URL, else OSV's public bucket.",
        ),
    ] = None,
    ecosystem: Annotated[
        list[str] | None,
        typer.Option(
            "--ecosystem",
            help="Ecosystem to download (repeatable; default Debian, Alpine, PyPI, npm, Go).",
        ),
    ] = None,
) -> None:
    """Download the OSV exports into the cache folder: verified, replaced atomically."""
    base = url or os.environ.get("TRIMDOCK_OSV_URL") or DEFAULT_BASE_URL
    statuses = update_database(default_db_dir(), base_url=base, ecosystems=ecosystem or ())
    _print(statuses)


class StatusFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


STATUS_SCHEMA = "trimdock/db-status/1"


@db_app.command("status")
def status(
    format: Annotated[
        StatusFormat,
        typer.Option("--format", "-F", help="Report format.", case_sensitive=False),
    ] = StatusFormat.TEXT,
) -> None:
    """What the local database holds, per ecosystem, and how old it is."""
    statuses = database_status(default_db_dir())
    if format is StatusFormat.JSON:
        now = dt.datetime.now(dt.UTC)
        typer.echo(to_json_text(status_json(default_db_dir(), statuses, now)), nl=False)
        return
    if not statuses:
        typer.echo(f"No database in {default_db_dir()}: run `trimdock db update`.")
        return
    _print(statuses)


def status_json(
    directory: Path, statuses: list[EcosystemStatus], now: dt.datetime
) -> dict[str, Any]:
    """The `db status --format json` document (docs/schemas/db-status.json)."""
    return {
        "schema": STATUS_SCHEMA,
        "directory": str(directory),
        "ecosystems": [
            {
                "ecosystem": item.ecosystem,
                "records": item.records if item.records >= 0 else None,
                "bytes": item.bytes,
                "downloaded": item.downloaded.isoformat() if item.downloaded else None,
                "age_days": None
                if item.downloaded is None
                else round((now - item.downloaded).total_seconds() / 86400, 3),
                "url": item.url,
                "sha256": item.sha256,
            }
            for item in statuses
        ],
    }


def _print(statuses: list[EcosystemStatus]) -> None:
    now = dt.datetime.now(dt.UTC)
    typer.echo(f"Database {default_db_dir()}")
    for item in statuses:
        age = "age unknown"
        if item.downloaded is not None:
            days = (now - item.downloaded).total_seconds() / 86400
            age = f"downloaded {item.downloaded.isoformat()} ({days:.1f} days ago)"
        records = f"{item.records} records" if item.records >= 0 else "records unknown"
        typer.echo(f"  {item.ecosystem:<10} {records:>16}  {age}")
