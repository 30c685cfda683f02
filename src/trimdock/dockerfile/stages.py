"""Stages: which instructions belong to which FROM, names, indices and base resolution."""

from __future__ import annotations

from trimdock.dockerfile.model import Instruction, ParseIssue, Stage
from trimdock.dockerfile.substitute import process_word

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


def global_env(global_args: tuple[Instruction, ...], escape: str) -> dict[str, str]:
    """Defaults of the ARGs declared before the first FROM, as FROM substitution sees them."""
    env: dict[str, str] = {}
    for instruction in global_args:
        for name, default in arg_definitions(instruction, escape):
            if default is not None:
                env[name] = process_word(default, {**AUTOMATIC_ARGS, **env}, escape)
    return env


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
    env = {**AUTOMATIC_ARGS, **global_env(tuple(global_args), escape)}
    stages: list[Stage] = []
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
        resolved = process_word(base, env, escape) if "$" in base else base
        platform_flag = from_instruction.flag("platform")
        parent = None
        for earlier in stages:
            if earlier.name is not None and earlier.name.lower() == resolved.lower():
                parent = earlier.index
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
    return tuple(stages), tuple(global_args), issues
