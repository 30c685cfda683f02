"""`trimdock explain`: one rule's four-part text, or the list of every rule id, as text or JSON.

Every id a user can meet is explained: TD rules (lint and context), hadolint ids (mapped to a TD
rule, or known with no equivalent) and ShellCheck's SC codes.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from trimdock.cli.completion import complete_rule_ids
from trimdock.context.rules import RULES as CONTEXT_RULES
from trimdock.errors import UsageError
from trimdock.report.rules import RuleInfo
from trimdock.rules import shellcheck
from trimdock.rules.peers import HADOLINT_VERSION, known_without_equivalent
from trimdock.rules.registry import RULE_INFOS, lookup
from trimdock.rules.shellcheck import shellcheck_id
from trimdock.runtime.check_rules import CHECK_RULES
from trimdock.runtime.compose.rules import COMPOSE_RULES
from trimdock.security.findings import RULES as SCAN_RULES

# The `schema` member of each JSON document (docs/schemas/): bump on an incompatible change.
RULE_SCHEMA = "trimdock/explain/1"
LIST_SCHEMA = "trimdock/explain-list/1"


class ExplainFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def catalogue() -> list[RuleInfo]:
    """Every TD rule (lint, context, Compose, check), by id."""
    infos = [
        *RULE_INFOS.values(),
        *CONTEXT_RULES.values(),
        *COMPOSE_RULES.values(),
        *CHECK_RULES.values(),
        *SCAN_RULES.values(),
    ]
    return sorted(infos, key=lambda i: i.rule_id)


def info_json(info: RuleInfo) -> dict[str, Any]:
    return {
        "id": info.rule_id,
        "title": info.title,
        "severity": info.severity.value,
        "category": info.category,
        "hadolint": info.peer_id,
        "what": info.what,
        "why": info.why,
        "example": info.example,
        "instead": info.instead,
    }


def info_text(info: RuleInfo) -> str:
    peer = f" (hadolint {info.peer_id})" if info.peer_id else ""
    parts = [
        f"{info.rule_id}{peer}: {info.title}",
        f"Severity: {info.severity.value}    Category: {info.category}",
        "",
        "What it finds:",
        _indent(info.what),
        "",
        "Why it matters:",
        _indent(info.why),
        "",
        "Example:",
        _indent(info.example),
        "",
        "Instead:",
        _indent(info.instead),
    ]
    return "\n".join(parts) + "\n"


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" if line else "" for line in text.splitlines())


def list_text(infos: list[RuleInfo]) -> str:
    lines = [f"{'id':<6} {'hadolint':<8} {'severity':<8} {'category':<11} title"]
    lines += [
        f"{i.rule_id:<6} {i.peer_id or '-':<8} {i.severity.value:<8} {i.category:<11} {i.title}"
        for i in infos
    ]
    return "\n".join(lines) + "\n"


def explain_one(rule_id: str, fmt: ExplainFormat) -> str:
    if code := shellcheck_id(rule_id):
        if fmt is ExplainFormat.JSON:
            record = {
                "schema": RULE_SCHEMA,
                "id": code,
                "category": "shell",
                "url": f"{shellcheck.WIKI}{code}",
            }
            return json.dumps(record, indent=2) + "\n"
        return shellcheck.explain(code)
    info = lookup(rule_id)
    if info is not None:
        return (
            json.dumps({"schema": RULE_SCHEMA, **info_json(info)}, indent=2) + "\n"
            if fmt is ExplainFormat.JSON
            else (info_text(info))
        )
    message = known_without_equivalent(rule_id)
    if message is None:
        raise UsageError(f"unknown rule id {rule_id!r} (trimdock explain --list shows every id)")
    key = rule_id.strip().upper()
    if fmt is ExplainFormat.JSON:
        record = {
            "schema": RULE_SCHEMA,
            "id": key,
            "hadolint_version": HADOLINT_VERSION,
            "message": message,
        }
        return json.dumps({**record, "equivalent": None}, indent=2) + "\n"
    return (
        f"{key} (hadolint {HADOLINT_VERSION}): {message}\n\n"
        "trimdock has no rule with the same behaviour. `--ignore`, [lint] ignore and\n"
        "`# hadolint ignore=` accept this id, so existing pragmas keep working.\n"
    )


def register(app: typer.Typer) -> None:
    @app.command("explain")
    def explain_command(
        rule_id: Annotated[
            str | None,
            typer.Argument(
                help="A rule id: TDnnn, a hadolint DLnnnn or a ShellCheck SCnnnn.",
                autocompletion=complete_rule_ids,
                show_default=False,
            ),
        ] = None,
        list_all: Annotated[
            bool, typer.Option("--list", help="List every rule id with its title.")
        ] = False,
        category: Annotated[
            str | None,
            typer.Option(
                "--category",
                help="List only this category: size, cache, security, production, "
                "correctness or style.",
            ),
        ] = None,
        fmt: Annotated[
            ExplainFormat,
            typer.Option("--format", "-F", help="Output format.", case_sensitive=False),
        ] = ExplainFormat.TEXT,
    ) -> None:
        """Print what a rule finds, why it matters, an example and what to do instead."""
        if list_all or category is not None:
            infos = catalogue()
            if category is not None:
                known = sorted({i.category for i in infos})
                if category.lower() not in known:
                    raise UsageError(
                        f"unknown category {category!r} (one of: {', '.join(known)})",
                        source="--category",
                    )
                infos = [i for i in infos if i.category == category.lower()]
            if fmt is ExplainFormat.JSON:
                document = {"schema": LIST_SCHEMA, "rules": [info_json(i) for i in infos]}
                sys.stdout.write(json.dumps(document, indent=2) + "\n")
            else:
                sys.stdout.write(list_text(infos))
            return
        if rule_id is None:
            raise UsageError("give a rule id, or --list to see them all", source="explain")
        sys.stdout.write(explain_one(rule_id, fmt))
