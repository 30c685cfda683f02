"""A builder stage for a single-stage compile: the build keeps its stage, the final image gets
the same base and only the artifact (`COPY --from=build`). Unsafe: the runtime image loses
everything the build installed, which the program may need (a shared library)."""

from __future__ import annotations

import posixpath
import re

from trimdock.dockerfile.model import Instruction
from trimdock.dockerfile.shell import Command
from trimdock.fix.compare import STAGE_BUILD
from trimdock.fix.providers.base import Target, provides
from trimdock.report.finding import Applicability, Finding, Fix, FixEdit
from trimdock.rules.images import is_sdk, parse_image

# The stage added by the fix is named so; `fix --verify` accepts losing what the build added
# on top of its base image (STAGE_BUILD), never the base's own files.
BUILD_STAGE = "build"

# Compilers whose output path is on their command line.
_OUTPUT_FLAG = {"gcc": "-o", "g++": "-o", "cc": "-o", "c++": "-o", "clang": "-o"}
# What may follow the compile in the final image: configuration only, nothing that reads files.
_RUNTIME = frozenset(
    {"CMD", "ENTRYPOINT", "EXPOSE", "ENV", "LABEL", "HEALTHCHECK", "STOPSIGNAL", "VOLUME"}
)
# Configuration set before the compile that the final stage must keep.
_CARRIED = frozenset({"ENV", "LABEL", "EXPOSE", "WORKDIR", "STOPSIGNAL"})


def _artifact(command: Command, workdir: str) -> str | None:
    args = command.args
    if command.name == "go" and command.subcommand() == "build":
        flag = "-o"
    else:
        flag = _OUTPUT_FLAG.get(command.name, "")
    if not flag:
        return None
    for index, arg in enumerate(args):
        if arg == flag and index + 1 < len(args):
            value = args[index + 1]
            break
        if arg.startswith(flag) and len(arg) > len(flag) and not arg.startswith("--"):
            value = arg[len(flag) :]
            break
    else:
        return None
    if any(c in value for c in "$*?[]'\"` ") or value.endswith("/"):
        return None
    return posixpath.normpath(posixpath.join(workdir, value))


def _numeric_user(instruction: Instruction) -> bool:
    """A USER by number needs no account created by the build."""
    return (
        instruction.keyword == "USER" and re.fullmatch(r"\d+(:\d+)?", instruction.rest) is not None
    )


def _line_text(target: Target, instruction: Instruction) -> str:
    start = target.index.line_start(instruction.span.line)
    return target.text[start : target.index.after_line(instruction.span.end_line)]


@provides("TD119")
def builder_stage(target: Target, finding: Finding) -> Fix | None:
    site = target.site_of(finding)
    if site is None or len(target.analysis.stages) != 1:
        return None
    stage = site.facts.stage
    base = stage.resolved_base
    if "$" in base or base.lower() == "scratch" or is_sdk(parse_image(base)):
        return None  # no runtime base can be read from the file
    command = target.command_at(site, finding)
    if command is None or command.via:
        return None
    artifact = _artifact(command, site.facts.workdirs[site.position])
    if artifact is None:
        return None
    before = stage.instructions[: site.position]
    after = stage.instructions[site.position + 1 :]
    if any(i.keyword not in _RUNTIME and not _numeric_user(i) for i in after) or any(
        i.keyword in ("USER", "SHELL", "ONBUILD") for i in before
    ):
        return None
    carried = "".join(_line_text(target, i) for i in before if i.keyword in _CARRIED)
    from_instruction = stage.from_instruction
    flags = "".join(f"--{f.name}={f.value} " for f in from_instruction.flags if f.value is not None)
    name = stage.name or BUILD_STAGE
    edits: list[FixEdit] = []
    if stage.name is None:
        assert from_instruction.rest_span is not None
        _start, end = target.index.span(from_instruction.rest_span)
        edits.append(FixEdit(end, end, f" AS {BUILD_STAGE}"))
    at = target.index.after_line(site.instruction.span.end_line)
    prefix = "" if target.text[:at].endswith("\n") else "\n"
    runtime = (
        f"{prefix}\nFROM {flags}{stage.base}\n{carried}COPY --from={name} {artifact} {artifact}\n"
    )
    edits.append(FixEdit(at, at, runtime))
    return Fix(
        tuple(edits),
        Applicability.UNSAFE,
        f"build in a '{name}' stage and copy only {artifact} into a fresh {stage.base}",
        (STAGE_BUILD,),
    )
