"""One finding shape for Dockerfile, context, image and host analyses.

A finding names its rule, severity and location (a file position or an image path), carries
the evidence a user needs to act, and optionally a fix expressed as a text edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """Ordered from most to least severe; `rank` gives the order for thresholds."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    STYLE = "style"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, threshold: Severity) -> bool:
        """True when this severity is as severe as `threshold` or more."""
        return self.rank >= threshold.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (one of: {names})") from None


_RANK = {Severity.STYLE: 0, Severity.INFO: 1, Severity.WARNING: 2, Severity.ERROR: 3}


@dataclass(frozen=True)
class FileLocation:
    """A span in a text file; lines and columns are 1-based, end column exclusive."""

    path: str
    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None


@dataclass(frozen=True)
class ImageLocation:
    """A path inside an image, optionally in one layer (0-based index)."""

    image: str
    path: str | None = None
    layer: int | None = None


Location = FileLocation | ImageLocation


@dataclass(frozen=True)
class TextEdit:
    """Replace the span with `replacement` (an insertion when the span is empty)."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    replacement: str


class Applicability(StrEnum):
    """How far a fix can be trusted, as ruff says it.

    SAFE: the image keeps the same content apart from the waste the fix removes (a cache, the
    package lists). UNSAFE: it changes what is installed or copied, reorders instructions or
    changes how the container runs; applied only on request (`--unsafe-fixes`).
    """

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class FixEdit:
    """Replace `text[start:end]` of the original file with `replacement` (code-point offsets;
    an insertion when start == end)."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Fix:
    """A rewrite that removes a finding: edits on the original text, never overlapping.

    `removes` names what the rewrite means to take out of the image (path prefixes such as
    `/var/lib/apt/lists/`, or `dpkg:recommends`): `fix --verify` rejects a fixed image that lost
    any other path.
    """

    edits: tuple[FixEdit, ...]
    applicability: Applicability
    description: str
    removes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "applicability": self.applicability.value,
            "description": self.description,
            "edits": [
                {"start": e.start, "end": e.end, "replacement": e.replacement} for e in self.edits
            ],
        }


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    message: str
    location: Location | None = None
    title: str = ""
    evidence: tuple[tuple[str, Any], ...] = field(default_factory=tuple)
    fix: tuple[TextEdit, ...] = ()
    peer_id: str | None = None  # the matching hadolint/dockle id, when the behaviour is the same
    # The rewrite `trimdock fix` would apply (trimdock.fix attaches it; None: no fix known).
    autofix: Fix | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule_id,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
        }
        if self.peer_id:
            data["peer_rule"] = self.peer_id
        if isinstance(self.location, FileLocation):
            data["location"] = {
                "file": self.location.path,
                "line": self.location.line,
                "column": self.location.column,
                "end_line": self.location.end_line,
                "end_column": self.location.end_column,
            }
        elif isinstance(self.location, ImageLocation):
            data["location"] = {
                "image": self.location.image,
                "path": self.location.path,
                "layer": self.location.layer,
            }
        if self.evidence:
            data["evidence"] = dict(self.evidence)
        if self.fix:
            data["fix"] = [
                {
                    "file": e.path,
                    "line": e.line,
                    "column": e.column,
                    "end_line": e.end_line,
                    "end_column": e.end_column,
                    "replacement": e.replacement,
                }
                for e in self.fix
            ]
        if self.autofix is not None:
            data["autofix"] = self.autofix.to_json()
        return data
