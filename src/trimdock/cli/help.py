"""Help that reads like a manual page: metavars that name what a value is, not its Python type.

typer shows `<str>`, `<list[str]>` and `<path>`; users need `IMAGE`, `PATTERN`, `SIZE`,
`DURATION`. One table here names every value by its parameter name, so each command module only
declares its options; a parameter missing from the table is shown by its own name in capitals.
Choices keep their list (`<text|json>`), flags show nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from typer.core import TyperArgument, TyperOption

# One line per command in `trimdock --help`: click cuts a longer first sentence with "..." at
# 45 characters on an 80-column terminal, so each says what the command is for in fewer.
SHORT_HELP: Mapping[str, str] = {
    "layers": "Layer sizes, exact waste, what could go",
    "lint": "Check Dockerfiles and Compose files",
    "explain": "What a rule finds, why, and what to do",
    "context": "What a build sends; what .dockerignore drops",
    "df": "Disk used by images, containers, volumes",
    "prune": "Remove what a policy selects",
    "check": "Run an image; check it is production-ready",
    "fix": "Rewrite a Dockerfile and prove the gain",
    "explore": "Browse layers and files in the terminal",
    "scan": "Packages, vulnerabilities, surface, secrets",
    "cache": "The per-layer result cache",
    "diff": "Compare two images",
    "db": "The local OSV vulnerability database",
}

METAVARS: Mapping[str, str] = {
    "image": "IMAGE",
    "files": "DOCKERFILE",
    "rule_id": "RULE_ID",
    "directory": "DIR",
    "platform": "OS/ARCH",
    "output": "FILE",
    "config": "FILE",
    "file": "DOCKERFILE",
    "context": "DIR",
    "max_waste": "SIZE",
    "large_context": "SIZE",
    "min_efficiency": "RATIO",
    "max_reclaimable": "SIZE",
    "max_achievable_ratio": "RATIO",
    "image_a": "A",
    "image_b": "B",
    "max_growth": "SIZE",
    "depth": "N",
    "top": "N",
    "at": "N",
    "jobs": "N",
    "keep_newest": "N",
    "export": "DIR",
    "extract": "PATH",
    "to": "FILE",
    "ignore": "RULE_ID",
    "failure_threshold": "SEVERITY",
    "fail_on": "SEVERITY",
    "build_arg": "NAME=VALUE",
    "policy": "NAME",
    "repo": "PATTERN",
    "protect": "PATTERN",
    "label": "KEY=VALUE",
    "older_than": "DURATION",
    "db": "PATH",
    "url": "URL",
    "ecosystem": "ECOSYSTEM",
    "unused_older_than": "DURATION",
    "containers_older_than": "DURATION",
    "args": "ARGS",
    "memory": "SIZE",
    "cpus": "N",
    "window": "DURATION",
    "grace": "DURATION",
    "health_timeout": "DURATION",
    "config_file": "PATH:DEST",
}


class _ReadableArgument(TyperArgument):
    """An argument shown as `IMAGE` (required) or `[DIR]` (optional), without `<str>`."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name if self.nargs == 1 else f"{name}..."

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class _ReadableOption(TyperOption):
    """An option whose help states its bounds in words: no click-style `[x>=0]` suffix."""

    def _get_number_range_help_str(self) -> str | None:
        return None


def _choices(param: Any) -> tuple[str, ...]:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or not descriptor.is_choice:
        return ()
    return tuple(str(getattr(choice, "value", choice)) for choice in descriptor.choices or ())


def name_values(command: Any) -> None:
    """Give every value-taking parameter of `command` a readable metavar (idempotent)."""
    for param in getattr(command, "params", ()):
        if getattr(param, "is_flag", False) or param.metavar:
            continue
        choices = _choices(param)
        if choices:
            param.metavar = "[" + "|".join(choices) + "]"
            continue
        name = param.name or ""
        param.metavar = METAVARS.get(name, name.upper())
        if type(param) is TyperOption:
            param.__class__ = _ReadableOption
        if isinstance(param, TyperArgument):
            param.__class__ = _ReadableArgument
