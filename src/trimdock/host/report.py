"""The df report (pure): per-image and per-repository usage, totals, reclaimable bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from trimdock.host.accounting import (
    ImageUsage,
    RepositoryUsage,
    Totals,
    image_usage,
    repository_usage,
    totals,
)
from trimdock.host.duration import format_duration
from trimdock.host.model import Container, HostState, Volume
from trimdock.host.planner import Plan, last_used, plan_prune
from trimdock.host.policy import Policy


class SortKey(StrEnum):
    SIZE = "size"
    UNIQUE = "unique"
    NAME = "name"
    VERSIONS = "versions"
    CREATED = "created"


# What `docker system prune -a --volumes` would remove, computed exactly: the fair comparison
# for docker's own RECLAIMABLE column.
ALL_UNUSED = Policy(
    name="all-unused",
    dangling=True,
    unused_older_than=timedelta(0),
    containers_older_than=timedelta(0),
    volumes=True,
    build_cache=True,
)


@dataclass(frozen=True)
class DfReport:
    state: HostState
    totals: Totals
    repositories: tuple[RepositoryUsage, ...]  # filtered and sorted for display
    shown_filter: str  # description of --repo/--older-than, empty when none
    # With a filter, only the containers of the images shown and the volumes they use: a view
    # of some repositories is not about every container on the host (totals stay host-wide).
    containers: tuple[Container, ...]
    volumes: tuple[Volume, ...]
    all_unused: Plan
    policy_plan: Plan


def build_df(
    state: HostState,
    policy: Policy,
    now: datetime,
    *,
    repos: tuple[str, ...] = (),
    older_than: timedelta | None = None,
    sort: SortKey = SortKey.SIZE,
) -> DfReport:
    usages: list[ImageUsage] = list(image_usage(state))
    if older_than is not None:
        usages = [u for u in usages if now - last_used(u.image, state.containers) >= older_than]
    groups = list(repository_usage(state, usages))
    if repos:
        groups = [g for g in groups if any(fnmatchcase(g.repository, p) for p in repos)]
    groups.sort(key=_sort_key(sort))
    shown = []
    if repos:
        shown.append(f"repositories {', '.join(repos)}")
    if older_than is not None:
        shown.append(f"images unused for at least {format_duration(older_than)}")
    containers, volumes = state.containers, state.volumes
    if shown:
        images = {u.image.id for g in groups for u in g.images}
        containers = tuple(c for c in containers if c.image_id in images)
        used = {name for c in containers for name in c.volumes}
        volumes = tuple(v for v in volumes if v.name in used)
    return DfReport(
        state=state,
        totals=totals(state),
        repositories=tuple(groups),
        shown_filter="; ".join(shown),
        containers=tuple(containers),
        volumes=tuple(volumes),
        all_unused=plan_prune(state, replace(ALL_UNUSED, protect=()), now),
        policy_plan=plan_prune(state, policy, now),
    )


def _sort_key(sort: SortKey) -> Callable[[RepositoryUsage], tuple[Any, ...]]:
    if sort is SortKey.NAME:
        return lambda g: (g.repository,)
    if sort is SortKey.UNIQUE:
        return lambda g: (-g.unique, g.repository)
    if sort is SortKey.VERSIONS:
        return lambda g: (-len(g.images), g.repository)
    if sort is SortKey.CREATED:
        return lambda g: (-max(u.image.created.timestamp() for u in g.images), g.repository)
    return lambda g: (-g.size, g.repository)
