"""Stages: which instructions belong to which FROM, names, indices and base resolution."""

from __future__ import annotations

from trimdock.dockerfile.model import Instruction, ParseIssue, Span, Stage
from trimdock.dockerfile.substitute import Expander

# BuildKit sets these automatically; they may be used in FROM without a declaration.
AUTOMATIC_ARGS = {
    "BUILDPLATFORM": "linux/amd64",
    "BUILDOS": "linux",
    "BUILDARCH": "amd64",
    "BUILDVARIANT": "",
    "TARGETPLATFORM": "linux/amd64",
    "TARGETOS": "linux",
    "TARGETARCH": "amd64",
    "TARGETVARIANT": "",
}


def arg_definitions(instruction: Instruction, escape: str) -> list[tuple[str, str | None]]:
    """(name, default) pairs of an ARG instruction; default None when not given."""
    result: list[tuple[str, str | None]] = []
    for word in instruction.args:
        if "=" in word.raw:
            name, value = word.raw.split("=", 1)
            result.append((name, value))
        else:
            result.append((word.raw, None))
    return result


class _Substitution:
    """One Dockerfile's expansions: one budget, and one issue per word kept unexpanded."""

    def __init__(self, escape: str, issues: list[ParseIssue]) -> None:
        self.expander = Expander(escape)
        self.issues = issues
        self.reported: set[str] = set()

    def expand(self, raw: str, env: dict[str, str], what: str, span: Span) -> str:
        expansion = self.expander.expand(raw, env)
        if expansion.limit is not None:
            message = f"{what} {expansion.limit}; checked as written"
            if message not in self.reported:  # the file budget fails every later word alike
                self.reported.add(message)
                self.issues.append(ParseIssue("expansion-limit", message, span))
        return expansion.value


def global_env(global_args: tuple[Instruction, ...], substitution: _Substitution) -> dict[str, str]:
    """Defaults of the ARGs declared before the first FROM, as FROM substitution sees them."""
    # One dict, updated in place: copying it for every ARG made n ARGs cost n^2.
    env: dict[str, str] = dict(AUTOMATIC_ARGS)
    declared: dict[str, str] = {}
    for instruction in global_args:
        for name, default in arg_definitions(instruction, substitution.expander.escape):
            if default is not None:
                value = substitution.expand(default, env, f"ARG {name}", instruction.span)
                env[name] = declared[name] = value
    return declared


def build_stages(
    instructions: list[Instruction], escape: str
) -> tuple[tuple[Stage, ...], tuple[Instruction, ...], list[ParseIssue]]:
    issues: list[ParseIssue] = []
    global_args: list[Instruction] = []
    groups: list[tuple[Instruction, list[Instruction]]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            groups.append((instruction, []))
        elif groups:
            groups[-1][1].append(instruction)
        elif instruction.keyword == "ARG":
            global_args.append(instruction)
        elif instruction.keyword in ("UNKNOWN",):
            continue
        else:
            issues.append(
                ParseIssue(
                    "instruction-before-from",
                    f"{instruction.keyword} before the first FROM (only ARG may come first)",
                    instruction.keyword_span,
                )
            )
    substitution = _Substitution(escape, issues)
    env = {**AUTOMATIC_ARGS, **global_env(tuple(global_args), substitution)}
    stages: list[Stage] = []
    named: dict[str, int] = {}  # lower-cased stage name -> index of the last stage so named
    for index, (from_instruction, body) in enumerate(groups):
        values = from_instruction.values
        name: str | None = None
        base = values[0] if values else ""
        if len(values) == 3 and values[1].lower() == "as":
            name = values[2]
        elif len(values) not in (1,):
            issues.append(
                ParseIssue(
                    "from-arguments",
                    "FROM requires either one or three arguments (FROM image [AS name])",
                    from_instruction.span,
                )
            )
        resolved = base
        if "$" in base:
            resolved = substitution.expand(base, env, "FROM image", from_instruction.span)
        platform_flag = from_instruction.flag("platform")
        # A dict, not a scan of the earlier stages: 20k chained stages were 200M comparisons.
        parent = named.get(resolved.lower())
        stages.append(
            Stage(
                index=index,
                name=name,
                base=base,
                resolved_base=resolved,
                platform=platform_flag.value if platform_flag else None,
                from_instruction=from_instruction,
                instructions=tuple(body),
                parent_stage=parent,
            )
        )
        if name is not None:
            named[name.lower()] = index
    return tuple(stages), tuple(global_args), issues
