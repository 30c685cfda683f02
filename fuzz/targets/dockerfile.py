"""`dockerfile/parser.parse` as `lint` reads a file (NUL bytes refused, UTF-8 with replacement),
then the stages it builds (ARG substitution in FROM) and the shell script of every RUN, CMD and
ENTRYPOINT (`dockerfile/shell.run_script`), ONBUILD triggers included.

Contract: `parse` never raises ("problems become issues"); a `TrimdockError` is tolerated.
"""

from __future__ import annotations

from fuzz.harness import Target, check_output_size
from trimdock.dockerfile.model import Instruction
from trimdock.dockerfile.parser import parse
from trimdock.dockerfile.shell import run_script
from trimdock.errors import TrimdockError

_SCRIPTED = ("RUN", "CMD", "ENTRYPOINT")


def _scripts(instruction: Instruction) -> None:
    if instruction.keyword in _SCRIPTED:
        script = run_script(instruction)
        check_output_size("commands", len(script.commands))
    if instruction.trigger is not None:
        _scripts(instruction.trigger)


def entry(data: bytes) -> None:
    if b"\x00" in data:
        return  # lint refuses it: "binary file (NUL bytes), not a Dockerfile"
    dockerfile = parse(data.decode("utf-8", errors="replace"))
    for stage in dockerfile.stages:
        check_output_size("a resolved FROM", len(stage.resolved_base))
    for instruction in dockerfile.instructions:
        _scripts(instruction)


TARGET = Target(
    name="dockerfile",
    entry=entry,
    expected=(TrimdockError,),
    description="dockerfile/parser.parse (+ stages, run_script of RUN/CMD/ENTRYPOINT)",
    max_len=8192,
    dictionary=(
        b"FROM ",
        b" AS ",
        b"ARG ",
        b"RUN ",
        b"COPY ",
        b"ONBUILD ",
        b"<<EOF",
        b"<<-EOF",
        b"\nEOF\n",
        b"# escape=`\n",
        b"# syntax=",
        b"--mount=",
        b"${",
        b":-",
        b"\\\n",
        b'["',
        b'"]',
        b"HEALTHCHECK ",
        b"SHELL ",
        b"&&",
        b"$(",
    ),
)
