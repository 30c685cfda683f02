"""Execute a plan: containers, then images (children first), then volumes, then build cache.

Every removal re-checks the engine right before it and never forces: a container started from a
planned image after the plan was made keeps that image (skipped and reported). The engine's own
conflict refusal (HTTP 409) is the last guard for the instant between re-check and removal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trimdock.errors import EngineError
from trimdock.host.accounting import bytes_of, freed_layers, removal_closure
from trimdock.host.engine import Engine
from trimdock.host.model import HostState, Image, chain_ids
from trimdock.host.planner import Plan
from trimdock.host.storage import StorageSnapshot, Usage, readable, snapshot

if TYPE_CHECKING:
    import docker.errors


@dataclass(frozen=True)
class Outcome:
    kind: str  # image, container, volume, build-cache
    id: str
    name: str
    done: bool
    detail: str  # "removed", or why it was skipped


@dataclass(frozen=True)
class Measurement:
    """Storage directories that disappeared while the plan ran."""

    freed: Usage  # everything that vanished
    in_plan: Usage  # directories the plan expected to go
    other: Usage  # vanished but not expected: other activity on the engine, or a misprediction
    other_dirs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[Outcome, ...]
    predicted: int  # the plan's prediction
    predicted_done: int  # the prediction recomputed for what was actually removed
    measurement: Measurement | None  # None when the data root is not readable
    skipped: tuple[Outcome, ...] = field(default=())


def _conflict(exc: docker.errors.APIError) -> str:
    return str(exc.explanation or exc).strip()


def _image_in_use(
    engine: Engine, image: Image, state: HostState, chains: dict[str, tuple[str, ...]]
) -> str | None:
    """Why `image` must stay now: a container of it, of a descendant, or of an image on it."""
    parents = engine.parents_now()
    for name, used in engine.container_images_now():
        walk = used
        while walk:
            if walk == image.id:
                return f"container {name} uses it (appeared after the plan)"
            walk = parents.get(walk, "")
        if used not in chains:
            known = state.image_by_id.get(used)
            if known is not None:
                chains[used] = known.chain
            else:
                detail = engine.image_now(used)
                chains[used] = chain_ids(detail.diff_ids if detail else ())
        if image.chain and chains[used][: len(image.chain)] == image.chain:
            return f"container {name} runs an image built on it (appeared after the plan)"
    return None


def _remove_image(engine: Engine, image: Image, state: HostState) -> Outcome:
    now = engine.image_now(image.id)
    if now is None:
        return Outcome("image", image.id, image.display, False, "already gone")
    tags_now = now.tags
    added = sorted(set(tags_now) - set(image.tags))
    if added:
        return Outcome("image", image.id, image.display, False, f"tagged {added[0]} after the plan")
    reason = _image_in_use(engine, image, state, {})
    if reason:
        return Outcome("image", image.id, image.display, False, reason)
    try:
        with engine.errors(f"remove image {image.display}"):
            # Only the tags still on this image: a tag moved to a newer image since the plan
            # must not be taken from it.
            for ref in tags_now or (image.id,):
                engine.api.remove_image(ref, force=False, noprune=False)
    except EngineError as exc:
        return Outcome("image", image.id, image.display, False, f"engine refused: {exc}")
    if engine.image_now(image.id) is not None:
        return Outcome(
            "image", image.id, image.display, False, "only untagged: another image is built on it"
        )
    return Outcome("image", image.id, image.display, True, "removed")


def apply_plan(engine: Engine, plan: Plan) -> ApplyResult:
    root = Path(plan.state.data_root)
    measure = readable(root)
    before = snapshot(root) if measure else StorageSnapshot()
    outcomes: list[Outcome] = []

    for decision in (d for d in plan.containers if d.remove):
        c = decision.container
        status = engine.container_status_now(c.id)
        if status is None:
            outcomes.append(Outcome("container", c.id, c.name, False, "already gone"))
            continue
        if status in ("running", "paused", "restarting"):
            outcomes.append(Outcome("container", c.id, c.name, False, f"{status} since the plan"))
            continue
        try:
            with engine.errors(f"remove container {c.name}"):
                engine.api.remove_container(c.id, v=False, force=False)
            outcomes.append(Outcome("container", c.id, c.name, True, "removed"))
        except EngineError as exc:
            outcomes.append(Outcome("container", c.id, c.name, False, f"engine refused: {exc}"))

    for idecision in plan.image_removals:
        outcomes.append(_remove_image(engine, idecision.image, plan.state))

    for vdecision in (d for d in plan.volumes if d.remove):
        v = vdecision.volume
        users = engine.volume_users_now(v.name)
        if users:
            outcomes.append(
                Outcome("volume", v.name, v.name, False, f"used by {users[0]} since the plan")
            )
            continue
        try:
            with engine.errors(f"remove volume {v.name}"):
                engine.api.remove_volume(v.name, force=False)
            outcomes.append(Outcome("volume", v.name, v.name, True, "removed"))
        except EngineError as exc:
            outcomes.append(Outcome("volume", v.name, v.name, False, f"engine refused: {exc}"))

    if plan.build_cache:
        try:
            with engine.errors("prune build cache"):
                engine.api.prune_builds(all=True)
            outcomes.append(Outcome("build-cache", "", "build cache", True, "pruned"))
        except EngineError as exc:
            outcomes.append(Outcome("build-cache", "", "build cache", False, str(exc)))

    measurement = None
    if measure:
        measurement = _measure(plan, before, snapshot(root), outcomes)
    return ApplyResult(
        outcomes=tuple(outcomes),
        predicted=plan.total_bytes,
        predicted_done=_predicted_done(plan, outcomes),
        measurement=measurement,
        skipped=tuple(o for o in outcomes if not o.done),
    )


def nothing_done(plan: Plan) -> ApplyResult:
    """The result of applying an empty plan: no engine call, nothing measured to have moved."""
    return ApplyResult(
        outcomes=(),
        predicted=0,
        predicted_done=0,
        measurement=Measurement(Usage(), Usage(), Usage()),
    )


def _predicted_done(plan: Plan, outcomes: list[Outcome]) -> int:
    """The plan's arithmetic, restricted to the removals that actually happened."""
    done = {(o.kind, o.id) for o in outcomes if o.done}
    state = plan.state
    staying = [c for c in state.containers if ("container", c.id) not in done]
    removed = [d.image.id for d in plan.images if d.remove and ("image", d.image.id) in done]
    gone = removal_closure(state, removed, staying)
    total = bytes_of(state, freed_layers(state, gone))
    total += sum(d.freed for d in plan.containers if ("container", d.container.id) in done)
    total += sum(d.freed for d in plan.volumes if ("volume", d.volume.name) in done)
    if any(o.kind == "build-cache" and o.done for o in outcomes):
        total += plan.build_cache_bytes
    return total


def _expected_dirs(plan: Plan) -> set[str]:
    expected = set()
    for chain_id in plan.freed_layers:
        layer = plan.state.layers.get(chain_id)
        if layer and layer.cache_id:
            expected.add(f"overlay2/{layer.cache_id}")
    for decision in plan.containers:
        if decision.remove:
            expected.add(f"containers/{decision.container.id}")
            expected.update(f"overlay2/{d}" for d in decision.container.storage_dirs)
    for vdecision in plan.volumes:
        if vdecision.remove:
            expected.add(f"volumes/{vdecision.volume.name}")
    return expected


def _measure(
    plan: Plan, before: StorageSnapshot, after: StorageSnapshot, outcomes: list[Outcome]
) -> Measurement:
    del outcomes
    expected = _expected_dirs(plan)
    vanished = before.vanished(after)
    total = Usage()
    in_plan = Usage()
    other = Usage()
    other_dirs = []
    for key, usage in vanished.items():
        total += usage
        if key in expected:
            in_plan += usage
        else:
            other += usage
            other_dirs.append(key)
    return Measurement(total, in_plan, other, tuple(sorted(other_dirs)))
