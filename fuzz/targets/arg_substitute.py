"""`dockerfile/substitute.process_word`: BuildKit's word processing and `$var` expansion.

Input: lines. A first line `escape=X` picks the escape character. Every `NAME=VALUE` line is an
ARG default expanded with the ARGs before it (how `stages.global_env` chains them); the last
line is the word expanded with all of them, and unquoted.

Contract: a string, never an exception, and no expansion bomb (`MAX_OUTPUT`).
"""

from __future__ import annotations

from fuzz.harness import Target, check_output_size
from trimdock.dockerfile.substitute import process_word, unquote
from trimdock.errors import TrimdockError


def entry(data: bytes) -> None:
    lines = data.decode("utf-8", errors="replace").split("\n")
    escape = "\\"
    if lines[0].startswith("escape=") and len(lines[0]) == 8:
        escape = lines.pop(0)[-1]
    word = lines.pop() if lines else ""
    env: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition("=")
        if sep:
            env[name] = process_word(value, env, escape)
            check_output_size(f"ARG {name[:20]}", len(env[name]))
    check_output_size("the word", len(process_word(word, env, escape)))
    unquote(word, escape)


TARGET = Target(
    name="arg_substitute",
    entry=entry,
    expected=(TrimdockError,),
    description="dockerfile/substitute.process_word (chained ARG defaults) and unquote",
    dictionary=(
        b"$",
        b"${",
        b"}",
        b":-",
        b":+",
        b":?",
        b"-",
        b"+",
        b"?",
        b"'",
        b'"',
        b"\\",
        b"escape=`\n",
        b"A=",
        b"$A$A$A$A$A$A$A$A$A$A",
    ),
)
