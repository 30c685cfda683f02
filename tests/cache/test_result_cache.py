"""The per-layer result cache: whole files or none, bounded (LRU), safe with concurrent runs."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from trimdock.cache.store import ResultCache, cache_limit, cache_root
from trimdock.errors import UsageError
from trimdock.image.layercache import LayerCache, decode, encode
from trimdock.image.model import EntryType, LayerEntry


def key(n: int) -> str:
    return f"sha256:{n:064x}"


def test_put_then_get(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, 10_000)
    assert cache.get("layer-entries", key(1)) is None
    cache.put("layer-entries", key(1), b"payload")
    assert cache.get("layer-entries", key(1)) == b"payload"
    assert cache.usage().files == 1
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_a_damaged_file_is_a_miss_and_goes(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, 10_000)
    cache.put("layer-entries", key(1), b"payload")
    (stored,) = [p for p in tmp_path.rglob("*") if p.is_file()]
    stored.write_bytes(stored.read_bytes()[:-1] + b"X")
    assert cache.get("layer-entries", key(1)) is None
    assert not stored.exists()


def test_least_recently_used_results_go_first(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, 1200)  # each file: 300 bytes and a 50-byte header
    for n in range(3):
        cache.put("layer-entries", key(n), bytes(300))
        path = next(p for p in tmp_path.rglob(f"{n:064x}"))
        os.utime(path, (1000 + n, 1000 + n))  # 0 oldest
    os.utime(next(tmp_path.rglob(f"{0:064x}")), (2000, 2000))  # 0 used last
    cache.put("layer-entries", key(3), bytes(300))  # 1 400 bytes > 1 200: evict to 960
    assert cache.get("layer-entries", key(1)) is None
    assert cache.get("layer-entries", key(2)) is None
    assert cache.get("layer-entries", key(0)) is not None
    assert cache.get("layer-entries", key(3)) is not None
    assert cache.usage().bytes <= 960


def test_limit_zero_is_off(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, 0)
    cache.put("layer-entries", key(1), b"x")
    assert cache.get("layer-entries", key(1)) is None
    assert not list(tmp_path.iterdir())


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRIMDOCK_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "trimdock"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the spec says absolute only
    assert cache_root() == Path.home() / ".cache" / "trimdock"
    monkeypatch.setenv("TRIMDOCK_CACHE_MAX", "2GiB")
    assert cache_limit() == 2 << 30
    monkeypatch.setenv("TRIMDOCK_CACHE_MAX", "lots")
    with pytest.raises(UsageError, match=r"^TRIMDOCK_CACHE_MAX: expected a size"):
        cache_limit()


def _writer(root: str, worker: int) -> None:
    cache = ResultCache(Path(root), 40_000)
    for n in range(60):
        cache.put("layer-entries", key(n % 20), bytes([n % 20]) * 1500)
        got = cache.get("layer-entries", key((n + worker) % 20))
        assert got is None or got == bytes([(n + worker) % 20]) * 1500


def test_concurrent_runs_see_whole_results(tmp_path: Path) -> None:
    # Four processes writing, reading and evicting the same keys at once: every read is a
    # whole, correct result or a miss, and the bound holds afterwards.
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_writer, args=(str(tmp_path), w)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join()
    assert [process.exitcode for process in workers] == [0, 0, 0, 0]
    cache = ResultCache(tmp_path, 40_000)
    assert cache.usage().bytes <= 40_000
    for n in range(20):
        assert cache.get("layer-entries", key(n)) in (None, bytes([n]) * 1500)


ENTRIES = (
    LayerEntry("etc", EntryType.DIR, 0, 0o755, mtime=5),
    LayerEntry("etc/passwd", EntryType.FILE, 12, 0o644, 1, 2, 3),
    LayerEntry("etc/.wh.x", EntryType.FILE, 0, 0o600),
    LayerEntry("bin/sh", EntryType.SYMLINK, 0, 0o777, link="busybox"),
    LayerEntry("etc/l", EntryType.HARDLINK, 0, 0o644, link="etc/passwd"),
    LayerEntry("dev/null", EntryType.CHAR, 0, 0o666, devmajor=1, devminor=3),
    LayerEntry("caf\udce9", EntryType.FILE, 1, 0o644),  # a name that is not UTF-8
)


def test_layer_entries_round_trip(tmp_path: Path) -> None:
    assert decode(encode(ENTRIES, 4096)) == (ENTRIES, 4096)
    layers = LayerCache(ResultCache(tmp_path, 10_000))
    assert layers.load(key(7)) is None
    layers.save(key(7), ENTRIES, 4096)
    assert layers.load(key(7)) == (ENTRIES, 4096)
    assert decode(b"not zlib") is None


def test_many_chunks_round_trip_and_any_truncation_is_refused() -> None:
    # Several frames, each decompressed piece by piece: no chunk boundary may lose an entry.
    entries = tuple(
        LayerEntry(f"d{i // 1000}/{'n' * (i % 200)}{i}", EntryType.FILE, i, 0o644, mtime=i)
        for i in range(3 * 4096 + 17)
    )
    data = encode(entries, 123)
    assert decode(data) == (entries, 123)
    for cut in (len(data) - 1, len(data) // 2, 20, 9, 8, 3):
        assert decode(data[:cut]) is None, cut
    assert decode(data + b"trailing") is None
