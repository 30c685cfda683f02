"""Compare our parser with BuildKit's own (the `dockerfile` package wraps its Go parser)."""

from __future__ import annotations

from typing import Any

import dockerfile as buildkit

from trimdock.dockerfile import Instruction, parse


def _flag_text(instruction: Instruction) -> tuple[str, ...]:
    return tuple(
        f"--{f.name}" + ("" if f.value is None else f"={f.value}") for f in instruction.flags
    )


def _values(instruction: Instruction) -> tuple[str, ...]:
    if instruction.keyword == "ONBUILD":
        trigger = instruction.trigger
        if trigger is None:
            return ()
        if trigger.keyword == "ONBUILD":
            return ("",)  # the wrapper flattens a nested ONBUILD to one empty value
        return _values(trigger)
    if instruction.keyword not in _KNOWN:
        return ("",)
    return instruction.values


_KNOWN = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}  # fmt: skip


def ours(text: str) -> list[dict[str, Any]] | str:
    parsed = parse(text)
    errors = [i for i in parsed.issues if i.parser_error]
    if errors:
        return "error"
    result = []
    for ins in parsed.instructions:
        target = ins.trigger if ins.keyword == "ONBUILD" and ins.trigger else ins
        # The wrapper does not expose heredocs of an ONBUILD trigger; compare the rest.
        heredocs = ins.heredocs
        result.append(
            {
                "cmd": ins.keyword,
                "sub_cmd": ins.trigger.keyword if ins.trigger else None,
                "json": target.json if ins.trigger else ins.json,
                "start_line": ins.span.line,
                "end_line": ins.span.end_line,
                "flags": _flag_text(ins),
                "value": _values(ins),
                "heredocs": tuple((h.name, h.fd, h.content) for h in heredocs),
            }
        )
    return result


def theirs(text: str) -> list[dict[str, Any]] | str:
    try:
        commands = buildkit.parse_string(text)
    except buildkit.GoParseError:
        return "error"
    return [
        {
            "cmd": c.cmd.upper(),
            "sub_cmd": c.sub_cmd.upper() if c.sub_cmd else None,
            "json": c.json,
            "start_line": c.start_line,
            "end_line": c.end_line,
            "flags": tuple(c.flags),
            "value": tuple(c.value),
            "heredocs": tuple((h.name, h.file_descriptor, h.content) for h in c.heredocs),
        }
        for c in commands
    ]
