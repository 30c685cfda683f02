"""df and prune reports as JSON (bytes as integers) and as text tables with bars."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from trimdock.host.accounting import ImageUsage
from trimdock.host.apply import ApplyResult
from trimdock.host.duration import format_age
from trimdock.host.model import HostState, short_id
from trimdock.host.planner import Plan
from trimdock.host.report import DfReport
from trimdock.report.units import human_bytes, percent

BAR_WIDTH = 30


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def bar(unique: int, size: int, largest: int, width: int = BAR_WIDTH) -> Text:
    """Solid for bytes only this group holds, shaded for bytes it shares, scaled to `largest`."""
    if largest <= 0:
        return Text(" " * width)
    total_cells = round(width * size / largest)
    solid = round(width * unique / largest)
    shade = max(0, total_cells - solid)
    text = Text()
    text.append("█" * solid, style="red")
    text.append("▒" * shade, style="yellow")
    text.append("·" * max(0, width - solid - shade), style="dim")
    return text


# -- JSON ---------------------------------------------------------------------------------------


def _image_json(usage: ImageUsage) -> dict[str, Any]:
    image = usage.image
    return {
        "id": image.id,
        "tags": list(image.tags),
        "created": _iso(image.created),
        "layers": len(image.chain),
        "size_bytes": usage.size,
        "unique_bytes": usage.unique,
        "shared_bytes": usage.shared,
        "containers": usage.containers,
    }


def _engine_json(state: HostState) -> dict[str, Any]:
    return {
        "version": state.engine_version,
        "driver": state.driver,
        "data_root": state.data_root,
        "taken_at": _iso(state.taken_at),
    }


def predicted_json(plan: Plan) -> dict[str, Any]:
    return {
        "image_bytes": plan.image_bytes,
        "container_bytes": plan.container_bytes,
        "volume_bytes": plan.volume_bytes,
        "build_cache_bytes": plan.build_cache_bytes,
        "total_bytes": plan.total_bytes,
    }


def df_json(report: DfReport) -> dict[str, Any]:
    state = report.state
    t = report.totals
    users: dict[str, list[str]] = {}
    for container in report.containers:
        for name in container.volumes:
            users.setdefault(name, []).append(container.name)
    image_names = {i.id: (i.tags[0] if i.tags else short_id(i.id)) for i in state.images}
    return {
        "schema": "trimdock/df/1",
        "engine": _engine_json(state),
        "totals": {
            "images": t.images,
            "image_bytes": t.image_bytes,
            "containers": t.containers,
            "container_bytes": t.container_bytes,
            "log_bytes": t.log_bytes,
            "container_files_bytes": t.container_files_bytes,
            "volumes": t.volumes,
            "volume_bytes": t.volume_bytes,
            "build_cache_bytes": t.build_cache_bytes,
            "total_bytes": t.total,
        },
        "filter": report.shown_filter or None,
        "repositories": [
            {
                "repository": group.repository,
                "versions": len(group.images),
                "size_bytes": group.size,
                "unique_bytes": group.unique,
                "images": [_image_json(u) for u in group.images],
            }
            for group in report.repositories
        ],
        "containers": [
            {
                "id": c.id,
                "name": c.name,
                "image": image_names.get(c.image_id, c.image_id),
                "image_id": c.image_id,
                "state": c.state,
                "created": _iso(c.created),
                "finished": _iso(c.finished),
                "size_rw_bytes": c.size_rw,
                "log_bytes": c.log_size,
                "log_path": c.log_path,
            }
            for c in report.containers
        ],
        "volumes": [
            {
                "name": v.name,
                "driver": v.driver,
                "size_bytes": v.size,
                "used_by": users.get(v.name, []),
            }
            for v in report.volumes
        ],
        "build_cache": {
            "records": len(state.build_cache),
            "size_bytes": t.build_cache_bytes,
            "in_use_bytes": sum(r.size for r in state.build_cache if r.in_use),
        },
        "reclaimable": {
            "all_unused": predicted_json(report.all_unused),
            "policy": {
                "name": report.policy_plan.policy.name,
                **predicted_json(report.policy_plan),
            },
        },
    }


def plan_json(plan: Plan, result: ApplyResult | None = None) -> dict[str, Any]:
    def image_item(d: Any) -> dict[str, Any]:
        item = {"id": d.image.id, "tags": list(d.image.tags), "reason": d.reason}
        if d.remove:
            item["freed_bytes"] = d.freed
        return item

    def container_item(d: Any) -> dict[str, Any]:
        c = d.container
        item = {"id": c.id, "name": c.name, "state": c.state, "reason": d.reason}
        if d.remove:
            item["freed_bytes"] = d.freed
        return item

    def volume_item(d: Any) -> dict[str, Any]:
        item = {"name": d.volume.name, "reason": d.reason}
        if d.remove:
            item["freed_bytes"] = d.freed
        return item

    data: dict[str, Any] = {
        "schema": "trimdock/prune/1",
        "mode": "apply" if result else "dry-run",
        "engine": _engine_json(plan.state),
        "policy": plan.policy.as_json(),
        "remove": {
            "images": [image_item(d) for d in plan.images if d.remove],
            "containers": [container_item(d) for d in plan.containers if d.remove],
            "volumes": [volume_item(d) for d in plan.volumes if d.remove],
            "build_cache": [{"id": r.id, "size_bytes": r.size} for r in plan.build_cache],
            "cascade_images": sorted(plan.cascade),
        },
        "keep": {
            "images": [image_item(d) for d in plan.images if not d.remove and d.in_scope],
            "containers": [
                container_item(d) for d in plan.containers if not d.remove and d.in_scope
            ],
            "volumes": [volume_item(d) for d in plan.volumes if not d.remove and d.in_scope],
        },
        "out_of_scope": {
            "images": sum(1 for d in plan.images if not d.in_scope),
            "containers": sum(1 for d in plan.containers if not d.in_scope),
            "volumes": sum(1 for d in plan.volumes if not d.in_scope),
        },
        "predicted": predicted_json(plan),
    }
    if result is not None:
        measured = None
        if result.measurement is not None:
            m = result.measurement
            measured = {
                "bytes": m.freed.bytes,
                "blocks_bytes": m.freed.blocks_bytes,
                "in_plan_bytes": m.in_plan.bytes,
                "other_bytes": m.other.bytes,
                "other_dirs": list(m.other_dirs),
            }
        data["result"] = {
            "outcomes": [
                {"kind": o.kind, "id": o.id, "name": o.name, "done": o.done, "detail": o.detail}
                for o in result.outcomes
            ],
            "skipped": len(result.skipped),
            "predicted_bytes": result.predicted,
            "predicted_done_bytes": result.predicted_done,
            "measured": measured,
        }
    return data


# -- text ---------------------------------------------------------------------------------------


def render_df(report: DfReport, console: Console) -> None:
    state = report.state
    t = report.totals
    console.print(
        f"[bold]Docker host disk usage[/bold]  engine {state.engine_version}, "
        f"{state.driver}, {state.data_root}"
    )
    if report.shown_filter:
        console.print(f"showing {report.shown_filter} (totals are host-wide)")
    largest = max((g.size for g in report.repositories), default=0)
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("REPOSITORY / TAG", no_wrap=True, max_width=48)
    for column in ("VERSIONS", "SIZE", "UNIQUE", "SHARED", "AGE"):
        table.add_column(column, justify="right", no_wrap=True)
    for group in report.repositories:
        name = Text(group.repository, style="bold")
        name.append("\n")
        name.append_text(bar(group.unique, group.size, largest))
        table.add_row(
            name,
            str(len(group.images)),
            human_bytes(group.size),
            human_bytes(group.unique),
            human_bytes(group.size - group.unique),
            "",
        )
        for usage in group.images:
            image = usage.image
            tags = [tag for tag in image.tags if tag.startswith(group.repository + ":")]
            label = tags[0].rsplit(":", 1)[1] if tags else short_id(image.id)
            if len(tags) > 1:
                label += f" +{len(tags) - 1}"
            if usage.containers:
                label += f" ({usage.containers} ctr)"
            table.add_row(
                f"  {label}",
                short_id(image.id),
                human_bytes(usage.size),
                human_bytes(usage.unique),
                human_bytes(usage.shared),
                format_age(state.taken_at - image.created),
            )
    if report.repositories:
        console.print(table)
    else:
        console.print(
            "no image matches " + report.shown_filter if report.shown_filter else "no images"
        )
    if report.containers:
        console.print()
        ctable = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("CONTAINER", "IMAGE", "STATE", "WRITABLE", "LOG", "AGE"):
            ctable.add_column(column, justify="left" if column != "WRITABLE" else "right")
        names = {i.id: (i.tags[0] if i.tags else short_id(i.id)) for i in state.images}
        for c in sorted(report.containers, key=lambda c: -(c.size_rw + c.log_size)):
            ctable.add_row(
                c.name,
                names.get(c.image_id, short_id(c.image_id)),
                c.state,
                human_bytes(c.size_rw),
                human_bytes(c.log_size),
                format_age(state.taken_at - c.created),
            )
        console.print(ctable)
    if report.volumes:
        console.print()
        vtable = Table(box=None, pad_edge=False, header_style="bold")
        vtable.add_column("VOLUME")
        vtable.add_column("SIZE", justify="right")
        vtable.add_column("USED BY")
        users: dict[str, list[str]] = {}
        for c in report.containers:
            for volume_name in c.volumes:
                users.setdefault(volume_name, []).append(c.name)
        for v in sorted(report.volumes, key=lambda v: -v.size):
            size = human_bytes(v.size) if v.size >= 0 else "?"
            vtable.add_row(v.name, size, ", ".join(users.get(v.name, [])) or "-")
        console.print(vtable)
    console.print()
    summary = Table(box=None, pad_edge=False, header_style="bold")
    for column in (
        "TYPE",
        "COUNT",
        "SIZE",
        "RECLAIMABLE (all unused)",
        "POLICY " + report.policy_plan.policy.name,
    ):
        summary.add_column(column, justify="left" if column == "TYPE" else "right")
    everything = report.all_unused
    chosen = report.policy_plan

    def row(name: str, count: int, size: int, all_b: int, pol_b: int) -> None:
        summary.add_row(
            name,
            str(count),
            human_bytes(size),
            f"{human_bytes(all_b)} ({percent(all_b, size):.0f}%)",
            human_bytes(pol_b),
        )

    row("Images", t.images, t.image_bytes, everything.image_bytes, chosen.image_bytes)
    row(
        "Containers (+logs)",
        t.containers,
        t.container_bytes + t.container_files_bytes,
        everything.container_bytes,
        chosen.container_bytes,
    )
    row("Volumes", t.volumes, t.volume_bytes, everything.volume_bytes, chosen.volume_bytes)
    row(
        "Build cache",
        len(state.build_cache),
        t.build_cache_bytes,
        everything.build_cache_bytes,
        chosen.build_cache_bytes,
    )
    row(
        "Total",
        t.images + t.containers + t.volumes,
        t.total,
        everything.total_bytes,
        chosen.total_bytes,
    )
    console.print(summary)


def render_plan(plan: Plan, console: Console, result: ApplyResult | None = None) -> None:
    rules = ", ".join(plan.policy.describe()) or "nothing selected"
    mode = (
        "Prune (applied)" if result else "Prune plan (dry run: nothing removed; --apply to execute)"
    )
    console.print(f"[bold]{mode}[/bold]  policy {plan.policy.name}: {rules}")
    if plan.policy.protect:
        console.print(f"protected: {', '.join(plan.policy.protect)}")
    scope = [*(f"repo {r}" for r in plan.policy.repos), *(f"label {x}" for x in plan.policy.labels)]
    if scope:
        console.print(f"scope: {', '.join(scope)}")
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("ACTION")
    table.add_column("KIND")
    table.add_column("NAME")
    table.add_column("FREES", justify="right")
    table.add_column("WHY")
    for d in plan.images:
        if d.in_scope:
            table.add_row(
                *_action(d.remove), "image", d.image.display, _frees(d.remove, d.freed), d.reason
            )
    for c in plan.containers:
        if c.in_scope:
            table.add_row(
                *_action(c.remove),
                "container",
                c.container.name,
                _frees(c.remove, c.freed),
                c.reason,
            )
    for v in plan.volumes:
        if v.in_scope:
            table.add_row(
                *_action(v.remove), "volume", v.volume.name, _frees(v.remove, v.freed), v.reason
            )
    for r in plan.build_cache:
        table.add_row(*_action(True), "build cache", r.id[:12], human_bytes(r.size), "unused")
    console.print(table)
    out = (
        sum(1 for d in plan.images if not d.in_scope)
        + sum(1 for c in plan.containers if not c.in_scope)
        + sum(1 for v in plan.volumes if not v.in_scope)
    )
    if out:
        console.print(f"{out} objects outside the scope, untouched")
    console.print(
        f"predicted: {human_bytes(plan.total_bytes)} "
        f"(images {human_bytes(plan.image_bytes)}, "
        f"containers {human_bytes(plan.container_bytes)}, "
        f"volumes {human_bytes(plan.volume_bytes)}, "
        f"build cache {human_bytes(plan.build_cache_bytes)})"
    )
    if result is None:
        return
    for outcome in result.outcomes:
        if not outcome.done:
            console.print(
                f"[yellow]skipped[/yellow] {outcome.kind} {outcome.name}: {outcome.detail}"
            )
    done = sum(1 for o in result.outcomes if o.done)
    console.print(f"removed {done}, skipped {len(result.skipped)}")
    if result.measurement is None:
        console.print("measured: unavailable (data root not readable)")
        return
    m = result.measurement
    error = percent(m.in_plan.bytes - result.predicted_done, result.predicted_done)
    line = (
        f"freed: predicted {human_bytes(result.predicted_done)}, "
        f"measured {human_bytes(m.in_plan.bytes)} ({error:+.2f}%; "
        f"{human_bytes(m.in_plan.blocks_bytes)} of disk blocks)"
    )
    if m.other.bytes:
        line += (
            f"; {human_bytes(m.other.bytes)} more vanished outside the plan "
            "(other activity on the engine)"
        )
    console.print(line)


def _action(remove: bool) -> tuple[Text]:
    return (Text("remove", style="red") if remove else Text("keep", style="green"),)


def _frees(remove: bool, freed: int) -> str:
    return human_bytes(freed) if remove else ""
