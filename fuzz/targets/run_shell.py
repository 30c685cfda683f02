"""`dockerfile/shell.parse_script`: the RUN shell splitter, exactly (bashlex or the quick
splitter) and with the fallback splitter alone (`exact=False`, used past lint's time budget).

Contract: a `Script` whatever the text (bashlex errors fall back to the quick splitter).
"""

from __future__ import annotations

from fuzz.harness import Target, check_output_size
from trimdock.dockerfile.shell import parse_script
from trimdock.errors import TrimdockError


def entry(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    for exact in (True, False):
        script = parse_script(text, exact=exact)
        check_output_size("commands", len(script.commands))
        for command in script.commands:
            command.name  # noqa: B018 - a property the rules read on every command
            command.operands  # noqa: B018
            command.subcommand  # noqa: B018


TARGET = Target(
    name="run_shell",
    entry=entry,
    expected=(TrimdockError,),
    description="dockerfile/shell.parse_script (exact and fallback splitters)",
    dictionary=(
        b"&&",
        b"||",
        b";",
        b"|",
        b"$(",
        b"`",
        b"sh -c ",
        b"bash -c ",
        b"sudo ",
        b"env ",
        b"A=b ",
        b"<<EOF\n",
        b"'",
        b'"',
        b"\\",
        b"(",
        b")",
        b"#",
        b"apt-get ",
    ),
)
