from __future__ import annotations

import hashlib

from tests.host.factory import StateBuilder, diff, family
from trimdock.host.accounting import (
    image_usage,
    removal_closure,
    repository_usage,
    totals,
    unique_bytes,
)
from trimdock.host.model import chain_ids, split_reference


def test_chain_id_follows_the_oci_rule() -> None:
    a, b, c = diff("a"), diff("b"), diff("c")
    chain = chain_ids([a, b, c])
    assert chain[0] == a
    second = "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()
    assert chain[1] == second
    assert chain[2] == "sha256:" + hashlib.sha256(f"{second} {c}".encode()).hexdigest()


def test_same_diff_on_different_parents_is_a_different_layer() -> None:
    assert chain_ids([diff("a"), diff("x")])[1] != chain_ids([diff("b"), diff("x")])[1]


def test_split_reference_keeps_registry_port() -> None:
    assert split_reference("localhost:5000/app:v1") == ("localhost:5000/app", "v1")
    assert split_reference("localhost:5000/app") == ("localhost:5000/app", "latest")


def test_unique_and_shared_bytes_per_image() -> None:
    builder, ids = family()
    state = builder.build()
    usage = {u.image.id: u for u in image_usage(state)}
    v1 = usage[ids["v1"]]
    assert (v1.size, v1.unique, v1.shared) == (1600, 100, 1500)
    assert usage[ids["other"]].unique == 4000
    assert usage[ids["base"]].unique == 0  # every other image is built on it
    assert ids["common"] not in usage  # an intermediate image is not listed


def test_removing_all_versions_frees_the_shared_intermediate_layer_once() -> None:
    builder, ids = family()
    state = builder.build()
    gone = removal_closure(state, [ids["v1"], ids["v2"], ids["v3"]])
    assert ids["common"] in gone  # the engine cascades to the untagged parent
    assert ids["base"] not in gone  # tagged parents stay
    assert unique_bytes(state, [ids["v1"], ids["v2"], ids["v3"]]) == 100 + 200 + 300 + 500


def test_cascade_stops_at_a_parent_with_a_container() -> None:
    builder, ids = family()
    builder.container("odd", ids["common"])
    state = builder.build()
    gone = removal_closure(state, [ids["v1"], ids["v2"], ids["v3"]], state.containers)
    assert ids["common"] not in gone


def test_totals_count_each_layer_once() -> None:
    builder, _ = family()
    state = builder.build()
    t = totals(state)
    assert t.image_bytes == 1000 + 500 + 100 + 200 + 300 + 4000 + 70
    assert t.images == 6  # base, v1..v3, other, dangling


def test_repository_groups_count_versions_and_unique_cost() -> None:
    builder, _ = family()
    state = builder.build()
    groups = {g.repository: g for g in repository_usage(state, image_usage(state))}
    app = groups["app"]
    assert len(app.images) == 3
    assert [u.image.tags[0] for u in app.images] == ["app:v3", "app:v2", "app:v1"]
    assert app.size == 1000 + 500 + 600
    assert app.unique == 500 + 600
    assert groups["<none>"].unique == 70


def test_an_image_with_no_layers_has_no_size() -> None:
    builder = StateBuilder()
    builder.image("empty", [], tags=("scratch-label:1",))
    state = builder.build()
    assert image_usage(state)[0].size == 0
