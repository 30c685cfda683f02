"""Showing context paths safely: odd bytes and control characters become visible escapes."""

from __future__ import annotations

import os


def display(path: str) -> str:
    """A printable, JSON-safe form: invalid UTF-8 as \\xNN, control characters escaped."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
