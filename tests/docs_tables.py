"""Tables in the docs generated from the rule registry; a test fails when the docs drift.

Regenerate after changing a rule: `python -m tests.docs_tables --write`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from trimdock.context.rules import RULES as CONTEXT_RULES
from trimdock.rules.peers import HADOLINT_VERSION, WITHOUT_EQUIVALENT
from trimdock.rules.registry import RULES
from trimdock.runtime.check_rules import CHECK_RULES, NAME_OF
from trimdock.runtime.compose.rules import COMPOSE_RULES

REPO = Path(__file__).resolve().parents[1]


def lint_rule_table() -> str:
    rows = ["| TD id | hadolint | severity | category | title |", "|---|---|---|---|---|"]
    for rule in RULES:
        info = rule.info
        rows.append(
            f"| {info.rule_id} | {info.peer_id or '—'} | {info.severity.value} | "
            f"{info.category} | {info.title} |"
        )
    return "\n".join(rows) + "\n"


def hadolint_only_table() -> str:
    rows = [f"| hadolint {HADOLINT_VERSION} id | hadolint's message |", "|---|---|"]
    rows += [f"| {rule_id} | {message} |" for rule_id, message in WITHOUT_EQUIVALENT.items()]
    return "\n".join(rows) + "\n"


def context_rule_table() -> str:
    rows = ["| id | severity | title | finds |", "|---|---|---|---|"]
    for info in CONTEXT_RULES.values():
        what = " ".join(info.what.split()).replace("|", "\\|")
        rows.append(f"| {info.rule_id} | {info.severity.value} | {info.title} | {what} |")
    return "\n".join(rows) + "\n"


def compose_rule_table() -> str:
    rows = ["| id | severity | category | title | finds |", "|---|---|---|---|---|"]
    for info in COMPOSE_RULES.values():
        what = " ".join(info.what.split()).replace("|", "\\|")
        rows.append(
            f"| {info.rule_id} | {info.severity.value} | {info.category} | {info.title} | {what} |"
        )
    return "\n".join(rows) + "\n"


def check_rule_table() -> str:
    rows = ["| id | name | severity | category | title | finds |", "|---|---|---|---|---|---|"]
    for info in CHECK_RULES.values():
        what = " ".join(info.what.split()).replace("|", "\\|")
        rows.append(
            f"| {info.rule_id} | `{NAME_OF[info.rule_id]}` | {info.severity.value} | "
            f"{info.category} | {info.title} | {what} |"
        )
    return "\n".join(rows) + "\n"


# (file, marker name, generator)
TABLES = (
    (REPO / "docs" / "lint.md", "lint-rules", lint_rule_table),
    (REPO / "docs" / "lint.md", "hadolint-only", hadolint_only_table),
    (REPO / "docs" / "context.md", "context-rules", context_rule_table),
    (REPO / "docs" / "lint.md", "compose-rules", compose_rule_table),
    (REPO / "docs" / "check.md", "check-rules", check_rule_table),
)


def _block(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated:{name} begin -->\n)(.*?)(<!-- generated:{name} end -->)", re.DOTALL
    )


def current(path: Path, name: str) -> str:
    found = _block(name).search(path.read_text())
    if found is None:
        raise AssertionError(f"{path}: no generated:{name} markers")
    return found.group(2)


def write() -> None:
    for path, name, generate in TABLES:
        text = path.read_text()
        found = _block(name).search(text)
        if found is None:
            raise SystemExit(f"{path}: no generated:{name} markers")
        path.write_text(text[: found.start(2)] + generate() + text[found.end(2) :])


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
