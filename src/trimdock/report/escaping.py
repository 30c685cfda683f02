"""The one way untrusted text (file names, image history, Dockerfile lines) reaches a terminal.

Every text renderer (findings, `layers`, ...) passes strings that came from an input through
`safe_terminal`: an escape sequence in a file name or a `created_by` must not retitle, clear or
recolour the user's terminal, and a newline must not forge an extra report line.
"""

from __future__ import annotations

import re

# C0 controls except tab, DEL and the C1 controls (which terminals also interpret), and lone
# surrogates (undecodable bytes of a file name), which cannot be written as UTF-8.
_TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")


def visible_escape(match: re.Match[str]) -> str:
    """The `\\xNN` (or `\\uNNNN`) form of one matched character; U+FFFD for a lone surrogate."""
    code = ord(match.group())
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_terminal(value: str) -> str:
    """`value` with control characters (newline included) shown as `\\xNN` escapes."""
    if value.isprintable():
        return value  # the common case, checked in C
    return _TERMINAL_CONTROLS.sub(visible_escape, value)
