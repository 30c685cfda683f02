"""Every rule's documented example fires it and its "instead" does not: `explain` and the rules
reference are generated from these texts, so a doc that contradicts its rule fails here."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.docs_tables import TABLES, current
from trimdock.dockerfile import parse
from trimdock.report.finding import Severity
from trimdock.report.rules import RuleInfo
from trimdock.rules.engine import LintSettings, lint, settings_from_config
from trimdock.rules.registry import RULES, lookup
from trimdock.runtime.check_rules import CHECK_RULES, NAME_OF
from trimdock.runtime.compose.load import parse_compose
from trimdock.runtime.compose.rules import COMPOSE_RULES, BuildFacts, ComposeFacts
from trimdock.runtime.compose.service import lint_compose
from trimdock.runtime.verdicts import CHECK_IDS

_END_OF_FILE = "\n(end of file)"
_CONFIG_LINE = re.compile(r"^# \.trimdock\.toml: \[lint\] (.+)$", re.MULTILINE)


def as_dockerfile(snippet: str) -> tuple[str, LintSettings]:
    """The snippet as a whole file: a base added when it has none, its config comment applied."""
    config = _CONFIG_LINE.search(snippet)
    settings = settings_from_config(tomllib.loads(config.group(1))) if config else LintSettings()
    if _END_OF_FILE in snippet:
        text = snippet.split(_END_OF_FILE, 1)[0]  # the file ends right there, no newline
    else:
        text = snippet.rstrip("\n") + "\n"
    only_comments = all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    )
    if not only_comments and not re.search(r"^FROM\s", text, re.MULTILINE | re.IGNORECASE):
        text = "FROM a:1\n" + text
    return text, settings


DOCUMENTED = [r.info for r in RULES if r.info.example]


def test_every_rule_is_documented_with_an_example() -> None:
    assert [r.info.rule_id for r in RULES if not r.info.example or not r.info.instead] == []


@pytest.mark.parametrize("info", DOCUMENTED, ids=lambda info: info.rule_id)
def test_example_fires_and_instead_is_quiet(info: RuleInfo) -> None:
    text, settings = as_dockerfile(info.example)
    assert info.rule_id in {f.rule_id for f in lint(parse(text), settings)}, text
    text, settings = as_dockerfile(info.instead)
    assert info.rule_id not in {f.rule_id for f in lint(parse(text), settings)}, text


@pytest.mark.parametrize(("path", "name", "generate"), TABLES, ids=[t[1] for t in TABLES])
def test_generated_doc_tables_match_the_registry(
    path: Path, name: str, generate: Callable[[], str]
) -> None:
    assert current(path, name) == generate(), "run: python -m tests.docs_tables --write"


# Compose rules (TD7xx): the examples are Compose files; a leading comment states the facts
# about the build context the rule needs ("has no .dockerignore", "Dockerfile has ... (TD301)").
COMPOSE_DOCUMENTED = list(COMPOSE_RULES.values())


def _compose_facts(snippet: str) -> ComposeFacts:
    comment = snippet.splitlines()[0] if snippet.startswith("#") else ""
    findings = tuple((i, Severity.WARNING) for i in re.findall(r"TD\d{3}", comment))
    no_ignore = "has no .dockerignore" in comment
    build = BuildFacts("./app", True, not no_ignore, "app/Dockerfile", findings)
    return ComposeFacts({"app": build})


@pytest.mark.parametrize("info", COMPOSE_DOCUMENTED, ids=lambda info: info.rule_id)
def test_compose_example_fires_and_instead_is_quiet(info: RuleInfo) -> None:
    def found(snippet: str) -> set[str]:
        compose = parse_compose(snippet + "\n", "compose.yaml")
        return {f.rule_id for f in lint_compose(compose, LintSettings(), _compose_facts(snippet))}

    assert info.rule_id in found(info.example), info.example
    assert info.rule_id not in found(info.instead), info.instead


# `trimdock check` rules (TD8xx): the examples are Dockerfiles of images that fail the check,
# "instead" of images that pass it; tests/runtime/test_check_rule_docs.py builds and runs them.
# Here: both are whole Dockerfiles, and "instead" lints without errors (an example may well
# fail a static rule too: TD811's baked secret is also TD301's).
@pytest.mark.parametrize("info", list(CHECK_RULES.values()), ids=lambda info: info.rule_id)
def test_check_example_and_instead_are_whole_dockerfiles(info: RuleInfo) -> None:
    assert info.example != info.instead
    for text in (info.example, info.instead):
        assert re.search(r"^FROM busybox:latest$", text, re.MULTILINE), text
    found = lint(parse(info.instead + "\n"), LintSettings())
    assert [f.rule_id for f in found if f.severity is Severity.ERROR] == [], info.instead


def test_check_rules_are_in_the_td8xx_range_with_their_names_as_aliases() -> None:
    assert all(rule_id.startswith("TD8") for rule_id in CHECK_RULES)
    assert set(NAME_OF.values()) == set(CHECK_IDS)
    for rule_id, name in NAME_OF.items():
        assert lookup(name) is lookup(rule_id.lower()) is CHECK_RULES[rule_id]
