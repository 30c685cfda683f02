"""The local OSV database: directories of OSV JSON/YAML files and OSV's per-ecosystem `all.zip`
exports, indexed by (ecosystem, package name).

Reading is I/O; `parse_record` and the index are pure. The default location is the user's
cache folder (`$XDG_CACHE_HOME/trimdock/osv`, where `trimdock db update` writes).
"""

from __future__ import annotations

import json
import os
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trimdock.errors import TrimdockError
from trimdock.security.catalog.python import canonical_name
from trimdock.security.vuln.records import Affected, OsvRecord, OsvRecordError, parse_record

RECORD_SUFFIXES = (".json", ".yaml", ".yml")


class DatabaseError(TrimdockError):
    """A vulnerability database path that cannot be read."""


def default_db_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trimdock" / "osv"


def package_key(ecosystem: str, name: str) -> tuple[str, str]:
    """How records and packages meet: the ecosystem without its release, the normalised name."""
    base = ecosystem.split(":", 1)[0]
    return base, canonical_name(name) if base == "PyPI" else name


@dataclass
class Database:
    """Records by package; `sources` names what was read (for `db status` and messages)."""

    index: dict[tuple[str, str], list[tuple[OsvRecord, Affected]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    sources: list[str] = field(default_factory=list)
    records: int = 0
    withdrawn: int = 0

    def add(self, record: OsvRecord) -> None:
        self.records += 1
        if record.withdrawn:
            # A withdrawn record was found to be wrong: never reported.
            self.withdrawn += 1
            return
        for affected in record.affected:
            self.index[package_key(affected.ecosystem, affected.name)].append((record, affected))

    def lookup(self, ecosystem: str, name: str) -> list[tuple[OsvRecord, Affected]]:
        return self.index.get(package_key(ecosystem, name), [])


def _decode(data: bytes, name: str, source: str) -> Any:
    # PyYAML is imported on the first YAML record: a scan without one should not pay for it.
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        if name.endswith(".json"):
            return json.loads(data)
        return yaml.load(data, Loader=loader)
    except (ValueError, yaml.YAMLError) as exc:
        raise OsvRecordError(
            f"not valid {'JSON' if name.endswith('.json') else 'YAML'}: {str(exc).splitlines()[0]}",
            source=source,
        ) from None


def _zip_records(path: Path) -> Iterator[OsvRecord]:
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.is_dir() or not info.filename.endswith(RECORD_SUFFIXES):
                    continue
                source = f"{path}!{info.filename}"
                yield parse_record(
                    _decode(archive.read(info), info.filename, source), source=source
                )
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatabaseError(f"not a readable zip archive: {exc}", source=str(path)) from None


def _file_records(path: Path) -> Iterator[OsvRecord]:
    if path.suffix == ".zip":
        yield from _zip_records(path)
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatabaseError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
    document = _decode(data, path.name, str(path))
    if isinstance(document, list):  # some exports are a JSON array of records
        for item in document:
            yield parse_record(item, source=str(path))
    else:
        yield parse_record(document, source=str(path))


def iter_records(path: Path) -> Iterator[OsvRecord]:
    """Every record under `path` (a record file, an `all.zip`, or a directory of them)."""
    if not path.exists():
        raise DatabaseError("no such file or directory", source=str(path))
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and (child.suffix in RECORD_SUFFIXES or child.suffix == ".zip"):
                if child.name.startswith(".") or child.name == "meta.json":
                    continue
                yield from _file_records(child)
        return
    yield from _file_records(path)


def load_database(paths: Sequence[Path]) -> Database:
    database = Database()
    for path in paths:
        database.sources.append(str(path))
        for record in iter_records(path):
            database.add(record)
    return database


def records_of(paths: Iterable[Path]) -> list[OsvRecord]:
    return [record for path in paths for record in iter_records(path)]
