"""The context report as JSON data and as text (formats compute nothing)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape

from trimdock.context.analysis import ContextReport, PathSize, Totals
from trimdock.context.builderchoice import BuilderChoice
from trimdock.context.filelist import FileState
from trimdock.context.names import display
from trimdock.context.suggest import Suggestion
from trimdock.context.verify import Verification
from trimdock.report.finding import Finding
from trimdock.report.units import count, human_bytes, percent


@dataclass(frozen=True)
class Rendered:
    report: ContextReport
    findings: tuple[Finding, ...]
    suggestion: Suggestion | None = None
    written_to: str | None = None
    builder_choice: BuilderChoice | None = None
    verification: Verification | None = None  # with --verify, when a file was suggested


def _rows(rows: tuple[PathSize, ...]) -> list[dict[str, Any]]:
    return [
        {"path": display(r.path), "bytes": r.bytes, "files": r.files, "directory": r.is_dir}
        for r in rows
    ]


def to_json(data: Rendered) -> dict[str, Any]:
    r = data.report
    out: dict[str, Any] = {
        "schema": "trimdock/context/1",
        "context": r.context,
        "dockerfile": r.dockerfile,
        "ignore_file": r.ignore_file,
        "builder": r.builder.value,
        "builder_basis": data.builder_choice.basis.value if data.builder_choice else None,
        "builder_reason": data.builder_choice.reason if data.builder_choice else None,
        "total": r.total.to_json(),
        "sent": r.sent.to_json(),
        "excluded": r.excluded.to_json(),
        "used": r.used.to_json(),
        "unused": r.unused.to_json(),
        "biggest_directories": _rows(r.biggest_dirs),
        "biggest_files": _rows(r.biggest_files),
        "biggest_unused": _rows(r.biggest_unused),
        "final_stage_broad_copies": _rows(r.final_broad),
        "instructions": [
            {
                "keyword": u.keyword,
                "line": u.line,
                "stage": u.stage,
                "stage_name": u.stage_name,
                "final_stage": u.final_stage,
                "instruction": u.text,
                "from": u.from_stage,
                "files": u.files,
                "bytes": u.bytes,
                "whole_directories": u.broad,
                "errors": [{"source": display(s), "error": e} for s, e in u.errors],
            }
            for u in r.uses
        ],
        "problems": [
            {"path": display(p.path), "problem": p.problem, "detail": p.detail} for p in r.problems
        ],
        "findings": [f.to_json() for f in data.findings],
        "suggestion": None,
    }
    s = data.suggestion
    if s is not None:
        out["suggestion"] = {
            "proven": s.proven,
            "changes_copy": s.changes_copy,
            "style": s.style,
            "patterns": s.patterns,
            "reason": s.reason or None,
            "text": s.text,
            "written_to": data.written_to,
            "before": s.before.to_json(),
            "after": s.after.to_json(),
            "proof": [
                {
                    "builder": p.builder.value,
                    "holds": p.holds,
                    "differing_lines": list(p.differing_lines),
                    "sent": p.sent.to_json(),
                }
                for p in s.proofs
            ],
            "verification": None if data.verification is None else data.verification.to_json(),
        }
    return out


def _totals(t: Totals) -> str:
    return f"{count(t.files, 'file')}, {human_bytes(t.bytes)}"


def _table(console: Console, title: str, rows: tuple[PathSize, ...]) -> None:
    if not rows:
        return
    console.print(f"\n[bold]{escape(title)}[/bold]")
    for row in rows:
        name = display(row.path) + ("/" if row.is_dir else "")
        files = f"  ({count(row.files, 'file')})" if row.is_dir else ""
        console.print(f"  {human_bytes(row.bytes):>10}  {escape(name)}{files}")


def _state(state: FileState | None) -> str:
    if state is None:
        return "absent"
    size = f" {count(state.size, 'byte')}" if state.kind in ("file", "symlink") else ""
    return f"{state.kind}{size} {state.mode:04o}"


_SHOWN_DIFFERENCES = 20


def _verification(console: Console, v: Verification) -> None:
    if v.identical:
        console.print(
            f"  verified ({v.builder} build): the images built with the current and the "
            "suggested file hold the same files"
        )
        return
    if v.failed is not None:
        console.print("  not verified: the build with the suggested file fails:")
        for line in v.failed.splitlines():  # the build's last output lines, then the error
            console.print(f"    {escape(line)}")
    else:
        console.print(
            f"  not verified ({v.builder} build): {count(len(v.differences), 'path')} "
            "differ between the images built with the current and the suggested file"
        )
        for d in v.differences[:_SHOWN_DIFFERENCES]:
            console.print(f"    {escape(d.path)}: {_state(d.before)} -> {_state(d.after)}")
        if len(v.differences) > _SHOWN_DIFFERENCES:
            more = len(v.differences) - _SHOWN_DIFFERENCES
            console.print(f"    ... {more} more (the JSON report lists all)")
    console.print("  --write-dockerignore writes only a verified file")


def render_text(console: Console, data: Rendered) -> None:
    r = data.report
    console.print(f"[bold]Build context[/bold] {escape(r.context)}")
    console.print(f"  Dockerfile:  {escape(r.dockerfile)}")
    builder = r.builder.value
    if data.builder_choice is not None:
        builder += f" ({data.builder_choice.reason})"
    # Wrapped here, not by the console, so the continuation lines stay in the value column.
    lines = textwrap.wrap(
        builder, width=max(40, console.width - 15), break_long_words=False, break_on_hyphens=False
    )
    console.print(f"  builder:     {escape(lines[0])}")
    for line in lines[1:]:
        console.print(f"               {escape(line)}")
    ignore = escape(r.ignore_file) if r.ignore_file else "none"
    console.print(f"  ignore file: {ignore}")
    console.print(f"  sent:        {_totals(r.sent)}")
    console.print(
        f"  excluded:    {_totals(r.excluded)} "
        f"({percent(r.excluded.bytes, r.total.bytes):.0f}% of {human_bytes(r.total.bytes)})"
    )
    console.print(f"  used:        {_totals(r.used)}  (by COPY/ADD and bind mounts)")
    console.print(f"  unused:      {_totals(r.unused)}  (sent, but no instruction can use them)")
    _table(console, "Biggest directories sent", r.biggest_dirs)
    _table(console, "Biggest files sent", r.biggest_files)
    _table(console, "Biggest unused (sent, used by nothing)", r.biggest_unused)
    _table(console, "Biggest files the final stage gets from whole-directory copies", r.final_broad)
    if r.uses:
        console.print("\n[bold]Instructions reading the context[/bold]")
    for u in r.uses:
        stage = u.stage_name or str(u.stage)
        where = f"line {u.line:<4} stage {stage}{' (final)' if u.final_stage else ''}"
        if u.from_stage is not None:
            console.print(f"  {where}: {escape(u.text)}  [dim]-> from {escape(u.from_stage)}[/dim]")
            continue
        console.print(
            f"  {where}: {escape(u.text)}  -> {count(u.files, 'file')}, {human_bytes(u.bytes)}"
        )
        for source, error in u.errors:
            console.print(f"      [red]{escape(display(source))}: {error}[/red]")
    if r.problems:
        console.print(f"\n[bold]Problems[/bold] ({len(r.problems)})")
        for p in r.problems[:20]:
            console.print(f"  {p.problem}: {escape(display(p.path))} ({escape(p.detail)})")
    if data.findings:
        console.print(f"\n[bold]Findings[/bold] ({len(data.findings)})")
        for f in data.findings:
            where = ""
            if f.location is not None and hasattr(f.location, "line"):
                where = f"{f.location.path}:{f.location.line}: "
            console.print(f"  {f.rule_id} {f.severity.value:<7} {escape(where)}{escape(f.message)}")
    s = data.suggestion
    if s is not None:
        console.print("\n[bold]Suggested .dockerignore[/bold]")
        if s.text is None:
            console.print(f"  not written: {escape(s.reason)}")
            return
        console.print(
            f"  {s.style}, {count(s.patterns, 'pattern')}: "
            f"sent {_totals(s.before)} -> {_totals(s.after)}"
        )
        if s.changes_copy:
            console.print("  changes what COPY copies (not proven): check the build still works")
        for proof in s.proofs:
            verdict = (
                "every COPY/ADD resolves to the same files (predicted, not built)"
                if proof.holds
                else f"differs at lines {', '.join(map(str, proof.differing_lines))}"
            )
            console.print(f"  checked ({proof.builder.value}): {verdict}")
        if data.verification is not None:
            _verification(console, data.verification)
        if data.written_to:
            console.print(f"  written to {escape(data.written_to)}")
        else:
            console.print("")
            assert s.text is not None
            for line in s.text.splitlines():
                console.print(f"    {escape(line)}")
