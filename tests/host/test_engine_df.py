"""`trimdock df` against the real engine, checked against docker save and the docker CLI."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.host.family import Family, inspect
from tests.host.oracle import all_images, chain_of, saved_layers
from tests.support.engine import docker
from trimdock.cli.main import run
from trimdock.host.engine import Engine

pytestmark = pytest.mark.engine


def df_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert run(["df", "--format", "json", *args]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_layer_sizes_and_chain_ids_match_docker_save(family: Family, tmp_path: Path) -> None:
    state = Engine.connect().snapshot()
    for name in ("v1", "v2", "v3", "other", "dangling"):
        image = state.image_by_id[family.ids[name]]
        ref = family.tags.get(name, family.ids[name]) if name != "dangling" else family.ids[name]
        saved = saved_layers(ref, tmp_path)
        detail = inspect("image", family.ids[name])[0]
        diff_ids = detail["RootFS"]["Layers"]  # type: ignore[index]
        assert list(image.chain) == chain_of(diff_ids)
        for chain_id, diff_id in zip(image.chain, diff_ids, strict=True):
            layer = state.layers[chain_id]
            assert layer.diff_id == diff_id
            assert layer.size == saved[diff_id], (name, diff_id)
        # and the engine's own per-image total agrees with the sum of our layers
        assert sum(state.layers[c].size for c in image.chain) == detail["Size"]


def test_unique_and_shared_bytes_match_an_independent_computation(
    family: Family, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = df_json(capsys, "--repo", f"{family.prefix}/*")
    # Oracle: chains from the docker CLI, sizes from docker save, "other images" are every image
    # that is not a legacy-builder intermediate (untagged and somebody's parent).
    images = all_images()
    parents = {str(i["Parent"]) for i in images if i["Parent"]}
    chains = {
        str(i["Id"]): chain_of(i["RootFS"]["Layers"])  # type: ignore[index]
        for i in images
        if i["RepoTags"] or str(i["Id"]) not in parents
    }
    sizes: dict[str, int] = {}
    for name in ("v1", "v2", "v3", "other"):
        saved = saved_layers(family.tags[name], tmp_path)
        detail = inspect("image", family.ids[name])[0]
        diffs = detail["RootFS"]["Layers"]  # type: ignore[index]
        for chain_id, diff_id in zip(chain_of(diffs), diffs, strict=True):
            sizes[chain_id] = saved[diff_id]
    seen = {}
    for group in report["repositories"]:
        for item in group["images"]:
            seen[item["id"]] = item
    for name in ("v1", "v2", "v3", "other"):
        image_id = family.ids[name]
        others = set().union(*(set(c) for i, c in chains.items() if i != image_id))
        mine = chains[image_id]
        expected_unique = sum(sizes[c] for c in mine if c not in others)
        expected_size = sum(sizes[c] for c in mine)
        item = seen[image_id]
        assert item["unique_bytes"] == expected_unique, name
        assert item["size_bytes"] == expected_size, name
        assert item["shared_bytes"] == expected_size - expected_unique, name
    # by construction: each version's unique layer is its own file, the common layer is shared
    assert seen[family.ids["v1"]]["unique_bytes"] == 200_000
    assert seen[family.ids["v3"]]["unique_bytes"] == 600_000
    assert seen[family.ids["other"]]["unique_bytes"] == 2_000_000 + len("/other.bin")
    app = next(g for g in report["repositories"] if g["repository"] == family.repo("app"))
    assert app["versions"] == 3
    assert app["unique_bytes"] == 800_000 + 200_000 + 400_000 + 600_000


def test_json_numbers_are_integers(family: Family, capsys: pytest.CaptureFixture[str]) -> None:
    report = df_json(capsys, "--repo", f"{family.prefix}/*")

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                numeric = key.endswith("_bytes") or key in ("versions", "layers", "containers")
                if numeric and not isinstance(value, list):
                    assert type(value) is int, f"{path}.{key} = {value!r}"
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")

    walk(report, "$")
    assert report["totals"]["image_bytes"] > 0


def test_containers_logs_and_volumes(family: Family, capsys: pytest.CaptureFixture[str]) -> None:
    report = df_json(capsys)
    containers = {c["id"]: c for c in report["containers"]}
    stopped = containers[family.containers["stopped"]]
    detail = json.loads(docker("container", "inspect", "--size", family.containers["stopped"]))[0]
    assert stopped["size_rw_bytes"] == detail["SizeRw"] == 300_000
    assert stopped["log_bytes"] == os.stat(detail["LogPath"]).st_size > 2000 * 30
    assert stopped["state"] == "exited"
    assert containers[family.containers["running"]]["state"] == "running"
    volumes = {v["name"]: v for v in report["volumes"]}
    assert volumes[family.volumes["orphan"]]["size_bytes"] == 200_000
    assert volumes[family.volumes["orphan"]]["used_by"] == []
    assert volumes[family.volumes["used"]]["used_by"] == [f"{family.prefix}-stopped"]


def test_text_report_groups_by_repository_with_a_bar(
    family: Family, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert run(["df", "--repo", f"{family.prefix}/*", "--sort", "name", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert out.index(family.repo("app")) < out.index(family.repo("other"))
    assert "█" in out and "RECLAIMABLE" in out
    assert "v1" in out and "200.0 kB" in out


def test_older_than_filters_recent_images(
    family: Family, capsys: pytest.CaptureFixture[str]
) -> None:
    report = df_json(capsys, "--repo", f"{family.prefix}/*", "--older-than", "30d")
    assert report["repositories"] == []


def test_image_total_equals_the_engines_layer_total(family: Family) -> None:
    """Each layer counted once: the engine's own `LayersSize` sums the same set.

    Other engineers build on this engine concurrently, so compare only a snapshot taken between
    two identical engine answers.
    """
    engine = Engine.connect()
    for _ in range(5):
        first = engine.api.df()["LayersSize"]
        state = engine.snapshot()
        if engine.api.df()["LayersSize"] == first:
            total = sum(state.layer_size(c) for c in {c for i in state.images for c in i.chain})
            assert total == first
            return
    pytest.skip("engine storage kept changing (concurrent builds)")


def test_a_filter_matching_nothing_says_so(
    family: Family, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    pattern = f"{family.prefix}-nothing/*"
    assert run(["df", "--no-color", "--repo", pattern, "--older-than", "90m"]) == 0
    out = capsys.readouterr().out
    assert f"no image matches repositories {pattern}; images unused for at least 1h30m" in out
    assert "REPOSITORY / TAG" not in out  # no table of headers over nothing


def test_a_repository_view_shows_only_its_containers_and_their_volumes(
    family: Family, capsys: pytest.CaptureFixture[str]
) -> None:
    report = df_json(capsys, "--repo", family.repo("app"))
    shown = {c["id"] for c in report["containers"]}
    assert shown == {family.containers["stopped"], family.containers["running"]}
    assert [v["name"] for v in report["volumes"]] == [family.volumes["used"]]
    everything = df_json(capsys)
    assert len(everything["containers"]) >= 2 and len(everything["volumes"]) >= 2
    assert report["totals"]["containers"] >= 2  # totals stay host-wide


def test_disk_usage_waits_for_another_clients_computation() -> None:
    # The engine refuses a second concurrent /system/df ("already running") instead of queueing
    # it; `docker system df` in a loop beside trimdock's own calls makes them overlap.
    stop = threading.Event()

    def other_client() -> None:
        while not stop.is_set():
            subprocess.run(["docker", "system", "df"], capture_output=True, check=False)

    others = [threading.Thread(target=other_client) for _ in range(3)]
    for thread in others:
        thread.start()
    try:
        engine = Engine.connect()
        for _ in range(4):
            assert engine.snapshot().taken_at is not None
    finally:
        stop.set()
        for thread in others:
            thread.join()
