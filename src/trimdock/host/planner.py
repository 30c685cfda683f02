"""Plan a prune from a snapshot and a policy (pure): what goes, why, and the exact bytes freed.

Safety rules, in order: outside the scope -> kept; matches a protect pattern -> kept; used by a
container that stays (running or stopped) or an ancestor of such an image -> kept; base of an
image that stays -> kept (the engine would only untag it). Only then do the policy rules apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from trimdock.host.accounting import freed_layers, removal_closure
from trimdock.host.duration import format_age, format_duration
from trimdock.host.model import (
    BuildCacheRecord,
    Container,
    HostState,
    Image,
    Volume,
    short_id,
    split_reference,
)
from trimdock.host.policy import Policy


@dataclass(frozen=True)
class ImageDecision:
    image: Image
    remove: bool
    reason: str
    freed: int = 0  # layers freed, each attributed to the oldest removed image holding it
    in_scope: bool = True


@dataclass(frozen=True)
class ContainerDecision:
    container: Container
    remove: bool
    reason: str
    freed: int = 0
    in_scope: bool = True


@dataclass(frozen=True)
class VolumeDecision:
    volume: Volume
    remove: bool
    reason: str
    freed: int = 0
    in_scope: bool = True


@dataclass(frozen=True)
class Plan:
    policy: Policy
    state: HostState
    images: tuple[ImageDecision, ...]
    containers: tuple[ContainerDecision, ...]
    volumes: tuple[VolumeDecision, ...]
    build_cache: tuple[BuildCacheRecord, ...]  # records to prune
    cascade: frozenset[str]  # image ids the engine deletes along (untagged parents)
    freed_layers: frozenset[str]

    @property
    def image_removals(self) -> tuple[ImageDecision, ...]:
        """Removals in a safe order: children before their parents."""
        chosen = [d for d in self.images if d.remove]
        return tuple(sorted(chosen, key=lambda d: (-len(d.image.chain), d.image.created)))

    @property
    def image_bytes(self) -> int:
        return sum(self.state.layer_size(chain_id) for chain_id in self.freed_layers)

    @property
    def container_bytes(self) -> int:
        return sum(d.freed for d in self.containers if d.remove)

    @property
    def volume_bytes(self) -> int:
        return sum(d.freed for d in self.volumes if d.remove)

    @property
    def build_cache_bytes(self) -> int:
        return sum(r.size for r in self.build_cache if not r.shared)

    @property
    def total_bytes(self) -> int:
        return self.image_bytes + self.container_bytes + self.volume_bytes + self.build_cache_bytes

    @property
    def empty(self) -> bool:
        return not (
            any(d.remove for d in self.images)
            or any(d.remove for d in self.containers)
            or any(d.remove for d in self.volumes)
            or self.build_cache
        )


def labels_match(labels: Mapping[str, str], wanted: Iterable[str]) -> bool:
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


def image_names(image: Image) -> list[str]:
    names = [image.id, image.id.removeprefix("sha256:"), short_id(image.id)]
    for tag in image.tags:
        names += [tag, split_reference(tag)[0]]
    return names


def _matching(patterns: Iterable[str], names: Iterable[str]) -> str | None:
    names = list(names)
    for pattern in patterns:
        if any(fnmatchcase(name, pattern) for name in names):
            return pattern
    return None


def unmatched_protect_patterns(state: HostState, patterns: Iterable[str]) -> list[str]:
    """Protect patterns that match nothing on this host: almost always a typo that would
    protect nothing. The CLI refuses one given with --protect and warns about one from the
    config (a shared policy may name images this host does not have)."""
    everything: list[str] = []
    for image in state.images:
        everything += image_names(image)
    for container in state.containers:
        everything += [container.name, container.id, container.id[:12]]
    everything += [volume.name for volume in state.volumes]
    return [p for p in patterns if not any(fnmatchcase(name, p) for name in everything)]


def unmatched_protect_message(pattern: str) -> str:
    return (
        f"protect pattern {pattern!r} matches no image, container or volume "
        "(patterns are globs on repo:tag, repo, image id, container or volume name)"
    )


def plan_prune(state: HostState, policy: Policy, now: datetime) -> Plan:
    containers = tuple(_decide_container(state, c, policy, now) for c in state.containers)
    staying = [d.container for d in containers if not d.remove]
    decided = _decide_images(state, policy, now, staying)
    removed_ids = [d.image.id for d in decided if d.remove]
    gone = removal_closure(state, removed_ids, staying)
    freed = freed_layers(state, gone)
    images = _attribute(state, decided, freed)
    volumes = _decide_volumes(state, policy, staying)
    cache: tuple[BuildCacheRecord, ...] = ()
    if policy.build_cache and not policy.repos and not policy.labels:
        cache = tuple(r for r in state.build_cache if not r.in_use)
    return Plan(
        policy=policy,
        state=state,
        images=images,
        containers=containers,
        volumes=volumes,
        build_cache=cache,
        cascade=frozenset(gone - set(removed_ids)),
        freed_layers=freed,
    )


def _decide_container(
    state: HostState, container: Container, policy: Policy, now: datetime
) -> ContainerDecision:
    image = state.image_by_id.get(container.image_id)
    if not labels_match(container.labels, policy.labels):
        return ContainerDecision(container, False, "outside --label scope", in_scope=False)
    if policy.repos and not (
        image and any(_repo_in_scope(tag, policy.repos) for tag in image.tags)
    ):
        return ContainerDecision(container, False, "outside --repo scope", in_scope=False)
    pattern = _matching(policy.protect, [container.name, container.id, container.id[:12]])
    if pattern:
        return ContainerDecision(container, False, f"protected by {pattern!r}")
    if container.running:
        return ContainerDecision(container, False, container.state)
    if policy.containers_older_than is None:
        return ContainerDecision(container, False, "no rule removes containers")
    stopped = container.finished or container.created
    age = now - stopped
    limit = format_duration(policy.containers_older_than)
    since = f"{_idle_state(container)} {format_age(age)} ago"
    if age >= policy.containers_older_than:
        return ContainerDecision(container, True, f"{since} (>= {limit})", container.bytes)
    return ContainerDecision(container, False, f"{since} (< {limit})")


def _idle_state(container: Container) -> str:
    return "created" if container.state == "created" and container.finished is None else "stopped"


def _repo_in_scope(tag: str, repos: Iterable[str]) -> bool:
    repo = split_reference(tag)[0]
    return any(fnmatchcase(repo, pattern) or fnmatchcase(tag, pattern) for pattern in repos)


def _ancestors(state: HostState, image_id: str) -> list[str]:
    result = []
    parent = state.image_by_id[image_id].parent if image_id in state.image_by_id else None
    while parent and parent in state.image_by_id:
        result.append(parent)
        parent = state.image_by_id[parent].parent
    return result


def _container_protection(state: HostState, staying: Iterable[Container]) -> dict[str, str]:
    """image id -> why a staying container needs it: its own image, a parent, a layer prefix."""
    reasons: dict[str, str] = {}
    for container in staying:
        # A container that never ran ("created") was never stopped either.
        what = "running" if container.running else _idle_state(container)
        reasons.setdefault(container.image_id, f"used by {what} container {container.name}")
        base = f"ancestor of the image of {what} container {container.name}"
        for ancestor in _ancestors(state, container.image_id):
            reasons.setdefault(ancestor, base)
        used = state.image_by_id.get(container.image_id)
        if used is None:
            continue
        for image in state.images:
            if image.chain and used.chain[: len(image.chain)] == image.chain:
                reasons.setdefault(image.id, base)
    return reasons


def last_used(image: Image, containers: Iterable[Container]) -> datetime:
    """Newest of build time, last tag time and any container of it created or stopped.

    The engine records no image "last used" time; this is the closest honest estimate, and
    better than `docker image prune --filter until`, which only looks at build time.
    """
    times = [image.created]
    if image.last_tagged:
        times.append(image.last_tagged)
    for container in containers:
        if container.image_id == image.id:
            times.append(container.created)
            if container.finished:
                times.append(container.finished)
    return max(times)


def _ranks(state: HostState) -> dict[tuple[str, str], int]:
    """(repository, image id) -> 0 for the newest image of the repository, 1 for the next..."""
    per_repo: dict[str, list[Image]] = {}
    for image in state.top_level:
        for repo in dict.fromkeys(split_reference(tag)[0] for tag in image.tags):
            per_repo.setdefault(repo, []).append(image)
    ranks = {}
    for repo, images in per_repo.items():
        images.sort(key=lambda i: (i.created, i.id), reverse=True)
        for rank, image in enumerate(images):
            ranks[(repo, image.id)] = rank
    return ranks


def _decide_images(
    state: HostState, policy: Policy, now: datetime, staying: list[Container]
) -> list[ImageDecision]:
    protection = _container_protection(state, staying)
    ranks = _ranks(state)
    decisions: dict[str, ImageDecision] = {}
    for image in state.top_level:
        decisions[image.id] = _decide_image(state, image, policy, now, protection, ranks)
    # An image another staying image is built on would only be untagged: keep it, and repeat
    # because keeping it can in turn keep its own parents.
    changed = True
    while changed:
        changed = False
        for decision in list(decisions.values()):
            if decision.remove:
                continue
            for ancestor in _ancestors(state, decision.image.id):
                other = decisions.get(ancestor)
                if other is not None and other.remove:
                    decisions[ancestor] = ImageDecision(
                        other.image, False, f"base of kept image {decision.image.display}"
                    )
                    changed = True
    return list(decisions.values())


def _decide_image(
    state: HostState,
    image: Image,
    policy: Policy,
    now: datetime,
    protection: dict[str, str],
    ranks: dict[tuple[str, str], int],
) -> ImageDecision:
    if not labels_match(image.labels, policy.labels):
        return ImageDecision(image, False, "outside --label scope", in_scope=False)
    if policy.repos and not any(_repo_in_scope(tag, policy.repos) for tag in image.tags):
        return ImageDecision(image, False, "outside --repo scope", in_scope=False)
    pattern = _matching(policy.protect, image_names(image))
    if pattern:
        return ImageDecision(image, False, f"protected by {pattern!r}")
    if image.id in protection:
        return ImageDecision(image, False, protection[image.id])
    if not image.tags:
        if policy.dangling:
            return ImageDecision(image, True, "dangling")
        return ImageDecision(image, False, "dangling images not selected")
    age = now - last_used(image, state.containers)
    kept_reasons: list[str] = []
    remove_reasons: list[str] = []
    for tag in image.tags:
        if policy.repos and not _repo_in_scope(tag, policy.repos):
            kept_reasons.append(f"{tag} outside --repo scope")
            continue
        keep, why = _decide_tag(tag, image, policy, age, ranks)
        (kept_reasons if keep else remove_reasons).append(why)
    if kept_reasons:
        return ImageDecision(image, False, "; ".join(dict.fromkeys(kept_reasons)))
    return ImageDecision(image, True, "; ".join(dict.fromkeys(remove_reasons)))


def _decide_tag(
    tag: str,
    image: Image,
    policy: Policy,
    age: timedelta,
    ranks: dict[tuple[str, str], int],
) -> tuple[bool, str]:
    """(keep, why) for one tag under the age and keep-newest rules."""
    repo = split_reference(tag)[0]
    rank = ranks.get((repo, image.id), 0)
    if policy.unused_older_than is None and policy.keep_newest is None:
        return True, "no rule removes tagged images"
    if policy.keep_newest is not None and rank < policy.keep_newest:
        return True, f"#{rank + 1} newest in {repo} (keeps {policy.keep_newest})"
    if policy.unused_older_than is not None:
        limit = format_duration(policy.unused_older_than)
        if age < policy.unused_older_than:
            return True, f"last used {format_age(age)} ago (< {limit})"
        why = f"unused for {format_age(age)} (>= {limit})"
        if policy.keep_newest is not None:
            why += f", #{rank + 1} in {repo} (keeps {policy.keep_newest})"
        return False, why
    return False, f"#{rank + 1} in {repo} (keeps {policy.keep_newest})"


def _attribute(
    state: HostState, decisions: list[ImageDecision], freed: frozenset[str]
) -> tuple[ImageDecision, ...]:
    claimed: set[str] = set()
    result: dict[str, ImageDecision] = {d.image.id: d for d in decisions}
    for decision in sorted(
        (d for d in decisions if d.remove), key=lambda d: (d.image.created, d.image.id)
    ):
        own = [c for c in decision.image.chain if c in freed and c not in claimed]
        claimed.update(own)
        result[decision.image.id] = ImageDecision(
            decision.image,
            True,
            decision.reason,
            sum(state.layer_size(c) for c in own),
        )
    order = sorted(decisions, key=lambda d: (not d.remove, d.image.repositories, d.image.created))
    return tuple(result[d.image.id] for d in order)


def _decide_volumes(
    state: HostState, policy: Policy, staying: list[Container]
) -> tuple[VolumeDecision, ...]:
    users: dict[str, str] = {}
    for container in staying:
        for name in container.volumes:
            users.setdefault(name, container.name)
    decisions = []
    for volume in state.volumes:
        if policy.repos:
            decisions.append(VolumeDecision(volume, False, "outside --repo scope", in_scope=False))
        elif not labels_match(volume.labels, policy.labels):
            decisions.append(VolumeDecision(volume, False, "outside --label scope", in_scope=False))
        elif pattern := _matching(policy.protect, [volume.name]):
            decisions.append(VolumeDecision(volume, False, f"protected by {pattern!r}"))
        elif volume.name in users:
            decisions.append(
                VolumeDecision(volume, False, f"used by container {users[volume.name]}")
            )
        elif not policy.volumes:
            decisions.append(VolumeDecision(volume, False, "dangling; volumes only with --volumes"))
        else:
            decisions.append(VolumeDecision(volume, True, "dangling", max(volume.size, 0)))
    return tuple(decisions)
