"""`trimdock df` and `trimdock prune`: host disk usage and safe, policy-driven pruning."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from trimdock.cli.common import (
    ConfigOption,
    FormatOption,
    NoColorOption,
    OutputOption,
    OutputOptions,
    QuietOption,
    settings,
    warn,
)
from trimdock.cli.common import deliver as deliver_report
from trimdock.config import RawConfig
from trimdock.errors import ConfigError, UsageError
from trimdock.host.apply import apply_plan, nothing_done
from trimdock.host.duration import parse_duration
from trimdock.host.engine import Engine
from trimdock.host.model import HostState
from trimdock.host.planner import plan_prune, unmatched_protect_message, unmatched_protect_patterns
from trimdock.host.policy import Policy, check_keep_newest, load_policy, override, validate_all
from trimdock.host.render import df_json, plan_json, render_df, render_plan
from trimdock.host.report import SortKey, build_df
from trimdock.report.output import OutputFormat

PolicyOption = Annotated[
    str | None,
    typer.Option("--policy", "-p", help="Named policy from [prune.policies.NAME] in the config."),
]
# `[df]`: defaults for the options of the same name.
DF_KEYS: dict[str, type | tuple[type, ...]] = {"policy": str, "sort": str}

RepoOption = Annotated[
    list[str] | None,
    typer.Option("--repo", help="Only repositories matching this glob (repeatable)."),
]


def df(
    policy: PolicyOption = None,
    repo: RepoOption = None,
    older_than: Annotated[
        str | None,
        typer.Option("--older-than", help="Only images unused for at least this long (30d, 12h)."),
    ] = None,
    sort: Annotated[
        SortKey | None,
        typer.Option("--sort", help="Order of repositories (default: size).", case_sensitive=False),
    ] = None,
    format: FormatOption = OutputFormat.TEXT,
    output: OutputOption = None,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    config: ConfigOption = None,
) -> None:
    """Disk used by images (unique and shared bytes by ChainID), containers and their logs,
    volumes and build cache, with exactly what a policy would reclaim."""
    age = parse_duration(older_than, source="--older-than") if older_than is not None else None
    raw = settings(config)
    section = raw.section("df", DF_KEYS)
    order = sort if sort is not None else _sort_key(raw, section.get("sort"))
    chosen = load_policy(raw, policy if policy is not None else section.get("policy"))
    engine = Engine.connect()
    state = engine.snapshot()
    check_protect(state, chosen, (), raw)
    report = build_df(
        state, chosen, datetime.now(UTC), repos=tuple(repo or ()), older_than=age, sort=order
    )
    deliver_report(
        OutputOptions(format, output, no_color, quiet),
        json_data=lambda: df_json(report),
        render_text=lambda console: render_df(report, console),
    )


def prune(
    apply: Annotated[
        bool, typer.Option("--apply", "--yes", "-y", help="Execute the plan (default: dry run).")
    ] = False,
    policy: PolicyOption = None,
    dangling: Annotated[
        bool | None,
        typer.Option("--dangling/--no-dangling", help="Remove dangling images (default: yes)."),
    ] = None,
    unused_older_than: Annotated[
        str | None,
        typer.Option("--unused-older-than", help="Remove tagged images unused for this long."),
    ] = None,
    keep_newest: Annotated[
        int | None,
        typer.Option("--keep-newest", help="Keep the newest N images of each repository."),
    ] = None,
    protect: Annotated[
        list[str] | None,
        typer.Option(
            "--protect",
            help="Never remove what matches this glob (image ref/id, name; repeatable).",
        ),
    ] = None,
    containers_older_than: Annotated[
        str | None,
        typer.Option("--containers-older-than", help="Remove containers stopped this long ago."),
    ] = None,
    volumes: Annotated[
        bool | None, typer.Option("--volumes", help="Also remove dangling volumes.")
    ] = None,
    build_cache: Annotated[
        bool | None, typer.Option("--build-cache", help="Also prune unused build cache.")
    ] = None,
    repo: Annotated[
        list[str] | None,
        typer.Option("--repo", help="Scope: only images of repositories matching this glob."),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="Scope: only objects with this label, KEY or KEY=VALUE."),
    ] = None,
    format: FormatOption = OutputFormat.TEXT,
    output: OutputOption = None,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    config: ConfigOption = None,
) -> None:
    """Remove what a policy selects. Dry run unless --apply: prints what goes, why, the bytes
    freed and what is kept. Never removes an image a container uses (or its ancestors)."""
    if keep_newest is not None:
        check_keep_newest(keep_newest, source="--keep-newest")
    unused = _parse(unused_older_than, "--unused-older-than")
    stopped = _parse(containers_older_than, "--containers-older-than")
    raw = settings(config)
    validate_all(raw)
    chosen = override(
        load_policy(raw, policy),
        dangling=dangling,
        unused_older_than=unused,
        keep_newest=keep_newest,
        protect=protect,
        containers_older_than=stopped,
        volumes=volumes,
        build_cache=build_cache,
        repos=repo,
        labels=label,
    )
    engine = Engine.connect()
    state = engine.snapshot()
    check_protect(state, chosen, protect or (), raw)
    plan = plan_prune(state, chosen, datetime.now(UTC))
    result = None
    if apply:
        result = nothing_done(plan) if plan.empty else apply_plan(engine, plan)
    deliver_report(
        OutputOptions(format, output, no_color, quiet),
        json_data=lambda: plan_json(plan, result),
        render_text=lambda console: render_plan(plan, console, result),
    )
    if result is not None and result.skipped:
        raise typer.Exit(1)


def check_protect(state: HostState, policy: Policy, by_hand: Sequence[str], raw: RawConfig) -> None:
    """A protect pattern that matches nothing: an error when typed with --protect (a typo that
    would protect nothing, right now), a warning when it comes from the config, whose shared
    policy may name images this host does not have (and `df` must still report)."""
    unmatched = unmatched_protect_patterns(state, policy.protect)
    for pattern in unmatched:
        if pattern in by_hand:
            raise UsageError(unmatched_protect_message(pattern), source="--protect")
    for pattern in unmatched:
        warn(f"{raw.where}: {unmatched_protect_message(pattern)}")


def _sort_key(raw: RawConfig, value: str | None) -> SortKey:
    if value is None:
        return SortKey.SIZE
    try:
        return SortKey(value.lower())
    except ValueError:
        known = ", ".join(key.value for key in SortKey)
        raise ConfigError(
            f"unknown sort {value!r} (known: {known})", source=raw.source("df", "sort")
        ) from None


def _parse(value: str | None, option: str) -> timedelta | None:
    if value is None:
        return None
    if not value:
        raise UsageError("empty duration", source=option)
    return parse_duration(value, source=option)


def register(app: typer.Typer) -> None:
    app.command("df")(df)
    app.command("prune")(prune)
