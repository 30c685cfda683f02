"""`context/ignorefile.parse_ignore`: reading a .dockerignore as Docker does (line scanning,
BOM, comments, `!` exceptions, filepath.Clean) and compiling every pattern.

Contract: an `IgnoreFile`, or `ContextError` (a `TrimdockError`) naming the line.
"""

from __future__ import annotations

from fuzz.harness import Target
from trimdock.context.ignorefile import parse_ignore
from trimdock.context.matcher import Matcher
from trimdock.errors import TrimdockError


def entry(data: bytes) -> None:
    ignore = parse_ignore(data.decode("utf-8", "surrogateescape"), ".dockerignore")
    for rule in ignore.rules:
        rule.source_text  # noqa: B018
    # Compiling every pattern into the matcher's automaton, and running it once.
    Matcher([rule.pattern for rule in ignore.rules]).hits("a/b/c")


TARGET = Target(
    name="dockerignore_reader",
    entry=entry,
    expected=(TrimdockError,),
    description="context/ignorefile.parse_ignore (+ pattern.compile_pattern)",
    dictionary=(
        b"**/",
        b"**",
        b"*",
        b"?",
        b"[",
        b"]",
        b"[^",
        b"\\",
        b"!",
        b"#",
        b"\xef\xbb\xbf",
        b"../",
        b"./",
        b"[:alpha:]",
        b"\r\n",
    ),
)
