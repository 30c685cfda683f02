"""Fixes of how the container runs: exec-form CMD/ENTRYPOINT, an unprivileged USER."""

from __future__ import annotations

from trimdock.fix.providers.base import Target, provides
from trimdock.report.finding import Applicability, Finding, Fix, FixEdit

# The conventional unprivileged user (`nobody`), present by number in every base image: no
# useradd needed, which would depend on the distribution.
NOBODY = "65534:65534"


@provides("TD605")
def json_form(target: Target, finding: Finding) -> Fix | None:
    """The rule's own edit (only for plain words). CMD in exec form runs the same program
    without a shell in front: safe. ENTRYPOINT in exec form starts taking CMD as arguments,
    which a shell-form ENTRYPOINT ignored: unsafe."""
    if not finding.fix:
        return None
    edits = tuple(
        FixEdit(
            target.index.offset(e.line, e.column),
            target.index.offset(e.end_line, e.end_column),
            e.replacement,
        )
        for e in finding.fix
    )
    site = target.site_of(finding)
    keyword = site.instruction.keyword if site is not None else "CMD"
    applicability = Applicability.SAFE if keyword == "CMD" else Applicability.UNSAFE
    return Fix(edits, applicability, f"write {keyword} in the JSON (exec) form")


@provides("TD303", "TD304")
def non_root_user(target: Target, finding: Finding) -> Fix | None:
    """`USER 65534:65534` after the last build step of the final stage. Unsafe: the app may
    need to write where only root can."""
    final = target.analysis.final
    if final is None:
        return None
    anchor = final.stage.from_instruction
    for instruction in final.stage.instructions:
        if instruction.keyword in ("RUN", "COPY", "ADD", "USER", "WORKDIR"):
            anchor = instruction
    at = target.index.after_line(anchor.span.end_line)
    line = f"USER {NOBODY}\n"
    if at == len(target.text) and not target.text.endswith("\n"):
        line = f"\nUSER {NOBODY}"
    return Fix(
        (FixEdit(at, at, line),),
        Applicability.UNSAFE,
        f"run as the unprivileged user {NOBODY} (nobody) after the last build step",
    )
