"""`trimdock db update`: download OSV's per-ecosystem `all.zip` exports into the cache folder.

Every export is downloaded to a temporary file beside its target, verified (a readable zip
whose every member is an OSV record), and only then renamed over the old one, with a
`meta.json` (source URL, time, sha256, record count) written the same way: a failed or
interrupted update leaves the previous database as it was. Nothing else downloads: `scan`
reads only what is here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trimdock.errors import TrimdockError
from trimdock.security.vuln.database import DatabaseError, iter_records

DEFAULT_BASE_URL = "https://osv-vulnerabilities.storage.googleapis.com"
DEFAULT_ECOSYSTEMS = ("Debian", "Alpine", "PyPI", "npm", "Go")
_TIMEOUT = 60.0
_MAX_BYTES = 2 * 1024**3


class DownloadError(TrimdockError):
    """A database export that could not be downloaded or is not what it claims to be."""


@dataclass(frozen=True)
class EcosystemStatus:
    ecosystem: str
    records: int
    bytes: int
    downloaded: dt.datetime | None
    url: str
    sha256: str


def _fetch(url: str, target: Path) -> str:
    digest = hashlib.sha256()
    total = 0
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response, target.open("wb") as out:
            while chunk := response.read(1024 * 1024):
                total += len(chunk)
                if total > _MAX_BYTES:
                    raise DownloadError("larger than 2 GiB: refused", source=url)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"HTTP {exc.code} {exc.reason}", source=url) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(f"cannot download: {reason}", source=url) from None
    return digest.hexdigest()


def update_database(
    directory: Path, *, base_url: str = DEFAULT_BASE_URL, ecosystems: Sequence[str] = ()
) -> list[EcosystemStatus]:
    """Download, verify, then replace each ecosystem's export; returns the new status."""
    wanted = tuple(ecosystems) or DEFAULT_ECOSYSTEMS
    directory.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path, dict[str, object]]] = []
    try:
        for ecosystem in wanted:
            url = f"{base_url.rstrip('/')}/{ecosystem}/all.zip"
            folder = directory / ecosystem
            folder.mkdir(exist_ok=True)
            tmp = folder / f".all.zip.{secrets.token_hex(6)}.tmp"
            staged.append((tmp, folder / "all.zip", {}))
            sha = _fetch(url, tmp)
            try:
                count = len(_records_of_zip(tmp))
            except TrimdockError as exc:
                raise DownloadError(f"not an OSV export: {exc}", source=url) from None
            staged[-1][2].update(
                url=url,
                sha256=sha,
                records=count,
                bytes=tmp.stat().st_size,
                downloaded=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            )
        # Every export verified: now replace, each with its metadata.
        for tmp, target, meta in staged:
            os.replace(tmp, target)
            _write_json(target.with_name("meta.json"), meta)
    finally:
        for tmp, _, _ in staged:
            tmp.unlink(missing_ok=True)
    return database_status(directory)


def _records_of_zip(path: Path) -> list[object]:
    # iter_records chooses the zip reader by suffix; the temporary name ends in .tmp.
    link = path.with_name(path.name + ".zip")
    os.link(path, link)
    try:
        return list(iter_records(link))
    finally:
        link.unlink(missing_ok=True)


def _write_json(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def database_status(directory: Path) -> list[EcosystemStatus]:
    """What the cache folder holds, per ecosystem (from each export's meta.json)."""
    result: list[EcosystemStatus] = []
    if not directory.is_dir():
        return result
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        export = folder / "all.zip"
        if not export.is_file():
            continue
        meta: dict[str, object] = {}
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        downloaded = meta.get("downloaded")
        when = dt.datetime.fromisoformat(downloaded) if isinstance(downloaded, str) else None
        records = meta.get("records")
        result.append(
            EcosystemStatus(
                ecosystem=folder.name,
                records=records if isinstance(records, int) else -1,
                bytes=export.stat().st_size,
                downloaded=when,
                url=str(meta.get("url", "")),
                sha256=str(meta.get("sha256", "")),
            )
        )
    return result


def has_database(directory: Path) -> bool:
    try:
        return bool(database_status(directory))
    except DatabaseError:
        return False
