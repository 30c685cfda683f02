"""`trimdock prune` against the real engine. Every run is scoped to the test's own label, and
the tests assert that nothing outside it is ever planned or removed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.host.family import Family, inspect
from tests.host.oracle import apparent_bytes, cache_dir, chain_of
from tests.support.engine import docker, image_exists
from trimdock.cli.main import run
from trimdock.host.apply import apply_plan
from trimdock.host.engine import Engine
from trimdock.host.planner import plan_prune
from trimdock.host.policy import Policy

pytestmark = pytest.mark.engine


def prune_json(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> dict[str, Any]:
    capsys.readouterr()
    assert run(["prune", "--format", "json", *args]) == code
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def family_objects(family: Family) -> set[str]:
    """Every id/name that belongs to this run: what a scoped prune may touch."""
    ids = set(docker("images", "-aq", "--no-trunc", "--filter", f"label={family.label}").split())
    ids |= set(family.containers.values()) | set(family.volumes.values())
    return ids


def assert_only_family(plan: dict[str, Any], mine: set[str]) -> None:
    removed = plan["remove"]
    touched = [i["id"] for i in removed["images"]] + [c["id"] for c in removed["containers"]]
    touched += [v["name"] for v in removed["volumes"]] + removed["cascade_images"]
    assert set(touched) <= mine, set(touched) - mine


def storage_dirs(family: Family) -> dict[str, int]:
    """Independent oracle: the family's directories in the engine storage and their bytes."""
    dirs: dict[Path, int] = {}
    ids = docker("images", "-aq", "--no-trunc", "--filter", f"label={family.label}").split()
    for detail in inspect("image", *sorted(set(ids))):
        for chain_id in chain_of(detail["RootFS"]["Layers"]):  # type: ignore[index]
            path = cache_dir(chain_id)
            dirs[path] = apparent_bytes(path)
    for detail in inspect("container", *family.containers.values()):
        upper = Path(detail["GraphDriver"]["Data"]["UpperDir"]).parent  # type: ignore[index]
        for path in (upper, upper.with_name(upper.name + "-init")):
            dirs[path] = apparent_bytes(path)
        path = Path("/var/lib/docker/containers") / str(detail["Id"])
        dirs[path] = apparent_bytes(path)
    for detail in inspect("volume", *family.volumes.values()):
        path = Path(str(detail["Mountpoint"])).parent
        dirs[path] = apparent_bytes(path)
    return {str(path): size for path, size in dirs.items()}


def freed_since(before: dict[str, int]) -> int:
    return sum(size for path, size in before.items() if not Path(path).exists())


def test_dry_run_plans_explains_and_removes_nothing(
    family: Family, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = prune_json(
        capsys,
        "--label", family.label, "--keep-newest", "1", "--containers-older-than", "0s",
        "--volumes",
    )  # fmt: skip
    assert plan["mode"] == "dry-run"
    assert_only_family(plan, family_objects(family))
    removed = {i["id"]: i for i in plan["remove"]["images"]}
    assert set(removed) == {family.ids[n] for n in ("v1", "v2", "dangling")}
    assert removed[family.ids["dangling"]]["reason"] == "dangling"
    assert removed[family.ids["v1"]]["freed_bytes"] == 200_000
    kept = {i["id"]: i["reason"] for i in plan["keep"]["images"]}
    assert kept[family.ids["v3"]] == f"used by running container {family.prefix}-running"
    assert kept[family.ids["other"]].startswith("#1 newest")
    assert [c["id"] for c in plan["remove"]["containers"]] == [family.containers["stopped"]]
    assert {v["name"] for v in plan["remove"]["volumes"]} == set(family.volumes.values())
    assert type(plan["predicted"]["total_bytes"]) is int
    # nothing happened
    for name in ("v1", "v2", "v3", "other", "tmp"):
        assert image_exists(family.ids[name])
    assert docker("ps", "-aq", "--filter", f"label={family.label}").split()


def test_named_policy_apply_frees_what_it_predicted(
    fresh_family: Family, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    family = fresh_family
    config = tmp_path / ".trimdock.toml"
    config.write_text(
        f"""
[prune]
protect = ["busybox:*", "debian:*"]

[prune.policies.nightly]
labels = ["{family.label}"]
keep-newest = 1
containers-older-than = "0s"
volumes = true
"""
    )
    # df predicts the same reclaimable bytes for the policy as prune does
    capsys.readouterr()
    assert run(["df", "--format", "json", "--policy", "nightly", "--config", str(config)]) == 0
    reclaimable = json.loads(capsys.readouterr().out)["reclaimable"]["policy"]
    before = storage_dirs(family)
    mine = family_objects(family)
    result = prune_json(capsys, "--apply", "--policy", "nightly", "--config", str(config))
    freed = freed_since(before)
    assert_only_family(result, mine)
    assert result["result"]["skipped"] == 0, result["result"]["outcomes"]
    predicted = result["result"]["predicted_done_bytes"]
    assert predicted == result["predicted"]["total_bytes"] == reclaimable["total_bytes"]
    assert abs(predicted - freed) <= 0.02 * freed, (predicted, freed)
    measured = result["result"]["measured"]["in_plan_bytes"]
    assert abs(measured - freed) <= 0.02 * freed, (measured, freed)
    # images: exact, they are the layer store's own numbers
    expected_images = 150_000 + 200_000 + 400_000
    assert result["predicted"]["image_bytes"] == expected_images
    # what must stay, stayed
    assert image_exists(family.ids["v3"]) and image_exists(family.ids["other"])
    assert image_exists("busybox:latest")
    assert docker("inspect", "-f", "{{.State.Running}}", family.containers["running"]).strip() == (
        "true"
    )
    for name in ("v1", "v2", "dangling"):
        assert not image_exists(family.ids[name])


def test_container_started_between_plan_and_apply_keeps_its_image(fresh_family: Family) -> None:
    family = fresh_family
    engine = Engine.connect()
    policy = Policy(
        labels=(family.label,),
        dangling=False,
        keep_newest=1,
        containers_older_than=timedelta(0),
    )
    plan = plan_prune(engine.snapshot(), policy, datetime.now(UTC))
    planned = {d.image.id for d in plan.images if d.remove}
    assert planned == {family.ids["v1"], family.ids["v2"]}
    stopped = family.containers["stopped"]
    assert {d.container.id for d in plan.containers if d.remove} == {stopped}
    # The state changes after the plan: a container is started from v1, and the planned stopped
    # container is started again (its command now finds /data/keep and keeps running).
    late = docker("run", "-d", "--label", family.label, family.tags["v1"], "sleep", "900").strip()
    family.containers["late"] = late
    docker(
        "run", "--rm", "--label", family.label, "-v", f"{family.volumes['used']}:/data",
        "busybox:latest", "touch", "/data/keep",
    )  # fmt: skip
    docker("start", stopped)
    result = apply_plan(engine, plan)
    outcomes = {o.id: o for o in result.outcomes}
    assert not outcomes[stopped].done and "running since the plan" in outcomes[stopped].detail
    assert not outcomes[family.ids["v1"]].done
    assert "appeared after the plan" in outcomes[family.ids["v1"]].detail
    assert not outcomes[family.ids["v2"]].done  # its container stays, so it does
    assert image_exists(family.ids["v1"]) and image_exists(family.ids["v2"])
    running = docker("ps", "-q", "--no-trunc", "--filter", f"label={family.label}").split()
    assert {late, stopped, family.containers["running"]} <= set(running)
    assert result.predicted_done == 0 < result.predicted


def test_nothing_outside_the_scope_is_planned(
    family: Family, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = prune_json(
        capsys, "--label", family.label, "--unused-older-than", "0s",
        "--containers-older-than", "0s", "--volumes", "--build-cache",
    )  # fmt: skip
    assert_only_family(plan, family_objects(family))
    assert plan["remove"]["build_cache"] == []  # a label scope never reaches the build cache
    assert plan["out_of_scope"]["images"] > 0  # busybox at least, and other engineers' images


def test_a_tag_moved_after_the_plan_stays_on_its_new_image(fresh_family: Family) -> None:
    family = fresh_family
    engine = Engine.connect()
    policy = Policy(labels=(family.label,), dangling=False, keep_newest=1)
    plan = plan_prune(engine.snapshot(), policy, datetime.now(UTC))
    assert family.ids["v1"] in {d.image.id for d in plan.images if d.remove}
    # app:v1 now names the v3 image; the planned (old) v1 image is left untagged
    docker("tag", family.tags["v3"], family.tags["v1"])
    result = apply_plan(engine, plan)
    outcomes = {o.id: o for o in result.outcomes}
    assert outcomes[family.ids["v1"]].done
    assert not image_exists(family.ids["v1"])
    assert docker("inspect", "-f", "{{.Id}}", family.tags["v1"]).strip() == family.ids["v3"]
