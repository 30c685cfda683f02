"""The one place `check` imports the engine client from, so its move to trimdock.engine is a
one-line change here."""

from __future__ import annotations

from trimdock.host.engine import Engine, parse_time

__all__ = ["Engine", "parse_time"]
