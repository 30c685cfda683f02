from __future__ import annotations

from datetime import timedelta

from tests.host.factory import NOW, family
from trimdock.host.planner import Plan, plan_prune, unmatched_protect_patterns
from trimdock.host.policy import Policy


def removed(plan: Plan) -> set[str]:
    return {d.image.id for d in plan.images if d.remove}


def reason(plan: Plan, image_id: str) -> str:
    return next(d.reason for d in plan.images if d.image.id == image_id)


def test_default_policy_removes_only_dangling_images() -> None:
    builder, ids = family()
    plan = plan_prune(builder.build(), Policy(), NOW)
    assert removed(plan) == {ids["dangling"]}
    assert plan.image_bytes == 70
    assert "no rule removes tagged images" in reason(plan, ids["v1"])


def test_keep_newest_per_repository() -> None:
    builder, ids = family()
    plan = plan_prune(builder.build(), Policy(dangling=False, keep_newest=1), NOW)
    assert removed(plan) == {ids["v1"], ids["v2"]}
    assert plan.image_bytes == 300  # v1 + v2 top layers; the common layer stays with v3
    assert "#1 newest in app" in reason(plan, ids["v3"])


def test_age_and_keep_newest_combine_as_and() -> None:
    builder, ids = family()
    policy = Policy(dangling=False, unused_older_than=timedelta(days=25), keep_newest=1)
    plan = plan_prune(builder.build(), policy, NOW)
    assert removed(plan) == {ids["v1"]}  # v2 is younger than 25 days
    assert "last used 20d ago (< 25d)" in reason(plan, ids["v2"])


def test_removing_every_version_frees_the_shared_layer_and_the_intermediate() -> None:
    builder, ids = family()
    plan = plan_prune(builder.build(), Policy(unused_older_than=timedelta(0)), NOW)
    assert ids["common"] in plan.cascade
    assert ids["base"] in removed(plan)  # everything built on it goes too
    assert plan.image_bytes == 1000 + 500 + 600 + 4000 + 70
    assert sum(d.freed for d in plan.images if d.remove) == plan.image_bytes


def test_tagged_base_of_a_kept_image_is_kept() -> None:
    builder, ids = family()
    plan = plan_prune(builder.build(), Policy(keep_newest=0, protect=("other:*",)), NOW)
    assert reason(plan, ids["base"]) == "base of kept image other:1"
    assert plan.image_bytes == 500 + 600 + 70


def test_image_of_a_stopped_container_and_its_ancestors_are_kept() -> None:
    builder, ids = family()
    builder.container("web", ids["v1"], state="exited")
    plan = plan_prune(builder.build(), Policy(keep_newest=0), NOW)
    assert ids["v1"] not in removed(plan)
    assert reason(plan, ids["v1"]) == "used by stopped container web"
    assert "ancestor" in reason(plan, ids["base"])
    assert plan.image_bytes == 200 + 300 + 4000 + 70  # common stays: v1 still holds it


def test_layer_prefix_counts_as_ancestor_without_parent_links() -> None:
    builder, ids = family()
    # an image whose layers are a prefix of v3's but with no Parent link (pulled, BuildKit)
    lone = builder.image("lone", [("base", 1000), ("common", 500)], tags=("lone:1",))
    builder.container("api", ids["v3"], state="running")
    plan = plan_prune(builder.build(), Policy(keep_newest=0), NOW)
    assert lone not in removed(plan)
    assert "ancestor of the image of running container api" in reason(plan, lone)


def test_removing_a_stopped_container_frees_its_image_in_the_same_plan() -> None:
    builder, ids = family()
    builder.container("old", ids["v1"], stopped_days=10, size_rw=5000, log_size=300)
    policy = Policy(keep_newest=1, containers_older_than=timedelta(days=7))
    plan = plan_prune(builder.build(), policy, NOW)
    assert ids["v1"] in removed(plan)
    assert plan.container_bytes == 5300


def test_young_stopped_container_keeps_its_image() -> None:
    builder, ids = family()
    builder.container("recent", ids["v1"], stopped_days=1)
    policy = Policy(keep_newest=1, containers_older_than=timedelta(days=7))
    plan = plan_prune(builder.build(), policy, NOW)
    assert ids["v1"] not in removed(plan)
    assert "stopped 1d ago (< 1w)" in next(d.reason for d in plan.containers)


def test_running_container_is_never_removed() -> None:
    builder, ids = family()
    builder.container("live", ids["v3"], state="running")
    plan = plan_prune(builder.build(), Policy(containers_older_than=timedelta(0)), NOW)
    assert not any(d.remove for d in plan.containers)


def test_protect_pattern_keeps_and_names_itself() -> None:
    builder, ids = family()
    plan = plan_prune(builder.build(), Policy(keep_newest=0, protect=("app:v1",)), NOW)
    assert reason(plan, ids["v1"]) == "protected by 'app:v1'"
    assert ids["v2"] in removed(plan)


def test_protect_pattern_matching_nothing_is_found() -> None:
    # Whether that is an error (--protect) or a warning (config) is the CLI's decision.
    builder, _ = family()
    state = builder.build()
    assert unmatched_protect_patterns(state, ("ap:*", "app:*", "app:v1")) == ["ap:*"]
    plan = plan_prune(state, Policy(protect=("ap:*",)), NOW)
    assert plan.policy.protect == ("ap:*",)


def test_repo_scope_leaves_everything_else_alone() -> None:
    builder, ids = family()
    plan = plan_prune(builder.build(), Policy(keep_newest=0, repos=("other",)), NOW)
    assert removed(plan) == {ids["other"]}  # not even the dangling image
    assert plan.image_bytes == 4000


def test_label_scope() -> None:
    builder, _ = family()
    mine = builder.image("mine", [("mine", 9)], tags=("mine:1",), labels={"team": "a"})
    plan = plan_prune(builder.build(), Policy(keep_newest=0, labels=("team=a",)), NOW)
    assert removed(plan) == {mine}


def test_dangling_volumes_only_with_the_flag() -> None:
    builder, ids = family()
    builder.container("db", ids["v3"], state="running", volumes=("data",))
    builder.volume("data", 1000)
    builder.volume("orphan", 2000)
    plain = plan_prune(builder.build(), Policy(), NOW)
    assert not any(d.remove for d in plain.volumes)
    plan = plan_prune(builder.build(), Policy(volumes=True), NOW)
    assert [d.volume.name for d in plan.volumes if d.remove] == ["orphan"]
    assert plan.volume_bytes == 2000


def test_image_a_kept_image_is_built_on_is_kept() -> None:
    builder, ids = family()
    child = builder.image(
        "child", [("base", 1000), ("old", 70), ("c", 5)], tags=("child:1",), parent=ids["dangling"]
    )
    del child
    # "dangling" now has a child, so it is an intermediate image, not dangling any more
    plan = plan_prune(builder.build(), Policy(), NOW)
    assert removed(plan) == set()
