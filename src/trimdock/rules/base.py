"""What a rule is: its `RuleInfo` and a pure check over an `Analysis` yielding `Hit`s."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trimdock.dockerfile.model import Span
from trimdock.report.finding import Severity
from trimdock.report.rules import RuleInfo

if TYPE_CHECKING:
    from trimdock.rules.analysis import Analysis


@dataclass(frozen=True)
class Edit:
    """A text edit in the linted file (the engine adds the path)."""

    span: Span
    replacement: str


@dataclass(frozen=True)
class Hit:
    span: Span
    message: str
    evidence: tuple[tuple[str, Any], ...] = ()
    fix: tuple[Edit, ...] = ()
    severity: Severity | None = None  # when this occurrence is milder than the rule's default


Check = Callable[["Analysis"], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    info: RuleInfo
    check: Check


REGISTRY: list[Rule] = []


def rule(
    rule_id: str,
    title: str,
    severity: Severity,
    category: str,
    *,
    what: str,
    why: str,
    example: str,
    instead: str,
    peer: str | None = None,
    same_fact: tuple[str, ...] = (),
) -> Callable[[Check], Check]:
    """Register a check with its four-part documentation."""

    def register(check: Check) -> Check:
        info = RuleInfo(
            rule_id=rule_id,
            title=title,
            severity=severity,
            what=what.strip(),
            why=why.strip(),
            example=example.strip("\n"),
            instead=instead.strip("\n"),
            peer_id=peer,
            category=category,
            same_fact=same_fact,
        )
        REGISTRY.append(Rule(info, check))
        return check

    return register
