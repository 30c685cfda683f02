"""Names and instructions that try to break out of an HTML page."""

from __future__ import annotations

# File names (no "/" in a name: the ones with one become a directory and a file).
HOSTILE_NAMES = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "</script><script>alert(3)</script>",
    "<!--comment-->&amp;",
    "line\u2028sep'quote",
)
HOSTILE_INSTRUCTION = "echo '<b>bold</b></script><script>alert(4)</script>'"
