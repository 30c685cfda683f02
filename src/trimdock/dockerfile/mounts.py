"""`RUN --mount=...` flags read the way BuildKit reads them: one CSV record of key=value fields."""

from __future__ import annotations

import csv
from dataclasses import dataclass

from trimdock.dockerfile.model import Instruction

# BuildKit's aliases for the same field (instructions/parse.go, parseMount).
_SOURCE_KEYS = ("source", "src")
_TARGET_KEYS = ("target", "dst", "destination")


@dataclass(frozen=True)
class Mount:
    type: str  # bind (the default), cache, tmpfs, secret, ssh
    source: str | None
    target: str | None
    from_: str | None  # a stage or image the mount reads from instead of the context

    @property
    def reads_context(self) -> bool:
        return self.type == "bind" and self.from_ is None


def parse_mount(value: str) -> Mount:
    """One `--mount` value; unknown fields are ignored (the linter reports syntax elsewhere)."""
    record = next(csv.reader([value]), [])
    fields: dict[str, str] = {}
    for part in record:
        key, _, item = part.partition("=")
        fields[key.strip().lower()] = item.strip()

    def first(keys: tuple[str, ...]) -> str | None:
        return next((fields[k] for k in keys if k in fields), None)

    return Mount(
        type=fields.get("type", "bind").lower() or "bind",
        source=first(_SOURCE_KEYS),
        target=first(_TARGET_KEYS),
        from_=fields.get("from"),
    )


def mounts(instruction: Instruction) -> tuple[Mount, ...]:
    return tuple(parse_mount(value) for value in instruction.flag_values("mount"))
