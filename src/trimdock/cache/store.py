"""A bounded, concurrency-safe folder of results keyed by content digest.

    cache = ResultCache.default()
    data = cache.get("layers", digest)          # bytes, or None
    cache.put("layers", digest, data)

Where: `$TRIMDOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/trimdock`, else `~/.cache/trimdock`.
`TRIMDOCK_CACHE_MAX` bounds its size (`500MB` by default, any size `parse_size` reads; `0`
turns the cache off).

Safe with concurrent runs without locks: a result is written to a temporary file and renamed
into place (readers see a whole file or none; two writers of the same key write the same
bytes), each file carries its own checksum (a torn or foreign file is a miss, and is removed),
and eviction only ever deletes files, which readers that already opened them keep reading.
Eviction is least-recently-used: a hit refreshes the file's mtime; when a write takes the
folder over its bound, the oldest files go until it is at 80 % of it.

Keys are content digests (`sha256:<hex>`): a result never goes stale, it only gets evicted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from trimdock.errors import UsageError
from trimdock.report.units import parse_size

DIR_VARIABLE = "TRIMDOCK_CACHE_DIR"
MAX_VARIABLE = "TRIMDOCK_CACHE_MAX"
DEFAULT_MAX = 500_000_000
FORMAT = "v1"
_MAGIC = b"trimdock-cache-v1\n"
_KEY = re.compile(r"^sha256:([0-9a-f]{64})$")
_KIND = re.compile(r"^[a-z][a-z0-9-]*$")


def cache_root() -> Path:
    explicit = os.environ.get(DIR_VARIABLE)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "trimdock"


def cache_limit() -> int:
    text = os.environ.get(MAX_VARIABLE)
    if text is None or not text.strip():
        return DEFAULT_MAX
    value = parse_size(text.strip())
    if value is None:
        raise UsageError(
            f"expected a size (500MB, 2GiB, 0 = off), got {text!r}", source=MAX_VARIABLE
        )
    return value


@dataclass(frozen=True)
class CacheUsage:
    root: Path
    files: int
    bytes: int
    limit: int


class ResultCache:
    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = limit
        self._folder = root / FORMAT

    @classmethod
    def default(cls) -> ResultCache:
        return cls(cache_root(), cache_limit())

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def _path(self, kind: str, key: str) -> Path:
        match = _KEY.match(key)
        if not match or not _KIND.match(kind):
            raise ValueError(f"not a cache key: {kind}/{key}")
        return self._folder / kind / match.group(1)

    def get(self, kind: str, key: str) -> bytes | None:
        """The result stored for `key`, or None (absent, unreadable, damaged, or cache off)."""
        if not self.enabled:
            return None
        path = self._path(kind, key)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        head, digest, payload = (
            data[: len(_MAGIC)],
            data[len(_MAGIC) : len(_MAGIC) + 32],
            data[len(_MAGIC) + 32 :],
        )
        if head != _MAGIC or hashlib.sha256(payload).digest() != digest:
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used goes first
        return payload

    def put(self, kind: str, key: str, payload: bytes) -> None:
        """Store a result; failing to (a read-only or full disk) only costs the next run."""
        if not self.enabled or len(payload) > self.limit:
            return
        path = self._path(kind, key)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "xb") as handle:
                handle.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
            return
        self._evict()

    def _files(self) -> list[tuple[float, int, Path]]:
        found = []
        try:
            kinds = list(self._folder.iterdir())
        except OSError:
            return []
        for kind in kinds:
            try:
                entries = list(os.scandir(kind))
            except OSError:
                continue
            for entry in entries:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # evicted by another run meanwhile
                found.append((info.st_mtime, info.st_size, Path(entry.path)))
        return found

    def _evict(self) -> None:
        files = self._files()
        total = sum(size for _, size, _ in files)
        if total <= self.limit:
            return
        for _, size, path in sorted(files):
            if total <= self.limit * 0.8:
                break
            with contextlib.suppress(OSError):
                path.unlink()
            total -= size

    def usage(self) -> CacheUsage:
        files = [f for f in self._files() if not f[2].name.startswith(".")]
        return CacheUsage(self.root, len(files), sum(size for _, size, _ in files), self.limit)

    def clear(self) -> int:
        """Remove every stored result; the number of files removed."""
        removed = 0
        for _, _, path in self._files():
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
        return removed
