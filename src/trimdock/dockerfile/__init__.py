"""Dockerfile parsing: BuildKit-compatible instructions with spans, stages and RUN shell parsing."""

from trimdock.dockerfile.model import (
    Comment,
    Directive,
    Dockerfile,
    Flag,
    Heredoc,
    Instruction,
    ParseIssue,
    Span,
    Stage,
    Word,
)
from trimdock.dockerfile.parser import parse

__all__ = [
    "Comment",
    "Directive",
    "Dockerfile",
    "Flag",
    "Heredoc",
    "Instruction",
    "ParseIssue",
    "Span",
    "Stage",
    "Word",
    "parse",
]
