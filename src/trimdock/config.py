"""Settings from `.trimdock.toml` or `[tool.trimdock]` in `pyproject.toml`.

Every command owns one section (`[layers]`, `[lint]`, `[context]`, `[df]`, `[prune]`). Unknown
sections and unknown keys are errors, because a misspelt CI threshold that is silently ignored
is worse than no threshold (dive's behaviour, which users complain about).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trimdock.errors import ConfigError

CONFIG_FILE = ".trimdock.toml"
SECTIONS = frozenset({"layers", "lint", "context", "df", "prune"})


@dataclass(frozen=True)
class RawConfig:
    """The parsed file, still untyped per section; each command validates its own section."""

    path: Path | None
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def section(self, name: str, allowed: Mapping[str, type | tuple[type, ...]]) -> dict[str, Any]:
        """Return section `name`, checking key names and value types against `allowed`."""
        if name not in SECTIONS:
            raise AssertionError(f"unknown config section {name!r} requested")
        raw = self.sections.get(name, {})
        where = str(self.path) if self.path else CONFIG_FILE
        result: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise ConfigError(
                    f"unknown key '{key}' in [{name}] (known keys: {known})", source=where
                )
            expected = allowed[key]
            # bool is an int subclass; a threshold of `true` is a mistake, not 1.
            if isinstance(value, bool) and bool not in _as_tuple(expected):
                raise ConfigError(f"[{name}] {key} must not be a boolean", source=where)
            if not isinstance(value, expected):
                raise ConfigError(
                    f"[{name}] {key} has type {type(value).__name__}, "
                    f"expected {_type_names(expected)}",
                    source=where,
                )
            result[key] = value
        return result


def _as_tuple(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def _type_names(expected: type | tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in _as_tuple(expected))


def find_config(start: Path) -> Path | None:
    """The nearest `.trimdock.toml`, or `pyproject.toml` with `[tool.trimdock]`, upwards."""
    start = start.resolve()
    for directory in [start, *start.parents]:
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and "[tool.trimdock" in _read_text(pyproject):
            return pyproject
    return None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", source=str(path)) from exc


def parse_config(text: str, path: Path) -> RawConfig:
    """Parse config text; pure apart from naming `path` in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", source=str(path)) from exc
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("trimdock", {})
    sections: dict[str, Mapping[str, Any]] = {}
    for name, value in data.items():
        if name not in SECTIONS:
            raise ConfigError(
                f"unknown section [{name}] (known: {', '.join(sorted(SECTIONS))})",
                source=str(path),
            )
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] must be a table", source=str(path))
        sections[name] = value
    return RawConfig(path=path, sections=sections)


def load_config(explicit: Path | None = None, start: Path | None = None) -> RawConfig:
    """Load the explicit file, else the nearest one found from `start` (default: cwd)."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError("config file not found", source=str(explicit))
        return parse_config(_read_text(explicit), explicit)
    found = find_config(start or Path.cwd())
    if found is None:
        return RawConfig(path=None)
    return parse_config(_read_text(found), found)
