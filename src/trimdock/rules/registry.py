"""The rule catalogue: every rule family imported once, looked up by TD id or hadolint id."""

from __future__ import annotations

from collections.abc import Mapping

from trimdock.context.rules import RULES as CONTEXT_RULES
from trimdock.report.rules import RuleInfo
from trimdock.rules import (
    cache,
    extract,
    instructions,
    npm_lock,
    packages,
    production,
    security,
    size,
    syntax,
)
from trimdock.rules.base import REGISTRY, Rule
from trimdock.runtime.check_rules import CHECK_RULES, check_rule_id
from trimdock.runtime.compose.rules import COMPOSE_RULES

_FAMILIES = (syntax, size, extract, packages, npm_lock, cache, security, production, instructions)

RULES: tuple[Rule, ...] = tuple(sorted(REGISTRY, key=lambda r: r.info.rule_id))
RULE_INFOS: Mapping[str, RuleInfo] = {r.info.rule_id: r.info for r in RULES}
BY_PEER: Mapping[str, str] = {r.info.peer_id: r.info.rule_id for r in RULES if r.info.peer_id}


def lookup(rule_id: str) -> RuleInfo | None:
    """A rule by its TD id or by the hadolint id it matches (case-insensitive).

    The build-context rules (TD5xx) share the id namespace, so `--ignore`, `[lint]` config and
    `explain` accept them too: `trimdock lint --context` reports them.
    """
    key = rule_id.strip().upper()
    if key in RULE_INFOS:
        return RULE_INFOS[key]
    if key in CONTEXT_RULES:
        return CONTEXT_RULES[key]
    if key in COMPOSE_RULES:  # TD7xx: `trimdock lint compose.yaml`
        return COMPOSE_RULES[key]
    check = check_rule_id(rule_id)  # TD8xx: `trimdock check IMAGE`, also by name (stop-signal)
    if check is not None:
        return CHECK_RULES[check]
    if key.startswith("TD9"):  # `trimdock scan IMAGE`; imported only when asked for
        from trimdock.security.findings import RULES as SCAN_RULES

        return SCAN_RULES.get(key)
    td = BY_PEER.get(key)
    return RULE_INFOS[td] if td else None


def canonical(rule_id: str) -> str | None:
    info = lookup(rule_id)
    return info.rule_id if info else None
