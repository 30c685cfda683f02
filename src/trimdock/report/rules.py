"""Rule metadata shared by the rule catalogue and the output formats (SARIF, explain, docs)."""

from __future__ import annotations

from dataclasses import dataclass

from trimdock.report.finding import Severity


@dataclass(frozen=True)
class RuleInfo:
    """What a rule is: its id, title, default severity and the four-part explanation.

    `what`, `why`, `example` and `instead` are the parts `trimdock explain ID` prints and the
    rules reference is generated from; `peer_id` is the hadolint/dockle id when the behaviour
    matches, so peer pragmas (`# hadolint ignore=DL3008`) keep working.
    """

    rule_id: str
    title: str
    severity: Severity
    what: str
    why: str
    example: str
    instead: str
    peer_id: str | None = None
    category: str = ""  # size, cache, security, production, correctness, style
    # Rules that report the same fact at the same line from another angle (TD211 and TD104 both
    # mean "the apt lists stay in a layer"): the text report shows such findings once, with
    # every id, under this rule's message. Machine formats keep every finding.
    same_fact: tuple[str, ...] = ()

    @property
    def help_text(self) -> str:
        return (
            f"{self.what}\n\nWhy it matters: {self.why}\n\n"
            f"Example:\n{self.example}\n\nInstead:\n{self.instead}"
        )
