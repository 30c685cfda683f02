"""Settings from `.trimdock.toml` or `[tool.trimdock]` in `pyproject.toml`.

Every command owns one section (`[layers]`, `[lint]`, `[context]`, `[df]`, `[prune]`). Unknown
sections and unknown keys are errors, because a misspelt CI threshold that is silently ignored
is worse than no threshold (dive's behaviour, which users complain about).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trimdock.errors import ConfigError

CONFIG_FILE = ".trimdock.toml"
SECTIONS = frozenset({"layers", "lint", "context", "df", "prune", "check", "scan"})
# A settings file is a few hundred bytes; the pyproject.toml of a large project tens of KiB.
# 1 MiB is far above both and keeps a wrong `--config` (a log, an image) from being read whole.
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class RawConfig:
    """The parsed file, still untyped per section; each command validates its own section."""

    path: Path | None
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """The file, as errors name it."""
        return str(self.path) if self.path else CONFIG_FILE

    def source(self, section: str, key: str) -> str:
        """`FILE: [section] key`, for an error about one setting's value (e.g. out of range)."""
        return f"{self.where}: [{section}] {key}"

    def section(self, name: str, allowed: Mapping[str, type | tuple[type, ...]]) -> dict[str, Any]:
        """Return section `name`, checking key names and value types against `allowed`."""
        if name not in SECTIONS:
            raise AssertionError(f"unknown config section {name!r} requested")
        raw = self.sections.get(name, {})
        where = self.where
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


def find_config(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest `.trimdock.toml`, or `pyproject.toml` with `[tool.trimdock]`, upwards, with
    its parsed TOML.

    Every `pyproject.toml` on the way is parsed, not searched for a string: settings may be
    written as `[tool.trimdock.layers]`, `[tool]` + `trimdock.layers.top = 5` or an inline
    table, and a malformed file may hold some of them, so it is an error, not skipped.
    """
    start = start.resolve()
    for directory in [start, *start.parents]:
        candidate = directory / CONFIG_FILE
        if os.path.lexists(candidate):
            # Whatever it is (a directory, a dangling link): reading it says what is wrong.
            return candidate, _parse_toml(candidate)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            data = _parse_toml(pyproject)
            if _tool_section(data, pyproject) is not None:
                return pyproject, data
    return None


def read_config_file(path: Path) -> str:
    """The text of a config file: a regular file of at most MAX_CONFIG_BYTES, UTF-8.

    Opened without blocking and checked on the open descriptor, so a FIFO does not hang the
    run and `/dev/zero` is refused rather than read for ever.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError("config file not found", source=str(path)) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, not a config file", source=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc
    try:
        kind = os.fstat(fd).st_mode
        if stat.S_ISDIR(kind):
            raise ConfigError("is a directory, not a config file", source=str(path))
        if not stat.S_ISREG(kind):
            raise ConfigError(
                f"not a regular file ({_file_kind(kind)}), not a config file", source=str(path)
            )
        data = b""
        while len(data) <= MAX_CONFIG_BYTES:
            chunk = os.read(fd, MAX_CONFIG_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"larger than {MAX_CONFIG_BYTES // 1024} KiB: not a config file", source=str(path)
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc}", source=str(path)) from exc


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def _parse_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when a settings file is found (most runs have none)

    text = read_config_file(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", source=str(path)) from exc
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively: 100k `[` exhaust the stack.
        raise ConfigError("invalid TOML: nested too deeply", source=str(path)) from None


def _tool_section(data: Mapping[str, Any], path: Path) -> Mapping[str, Any] | None:
    """`[tool.trimdock]` of a parsed pyproject.toml, None when it has none."""
    tool = data.get("tool")
    if tool is None:
        return None
    if not isinstance(tool, dict):
        raise ConfigError("[tool] must be a table", source=str(path))
    section = tool.get("trimdock")
    if section is not None and not isinstance(section, dict):
        raise ConfigError("[tool.trimdock] must be a table", source=str(path))
    return section


def parse_config(data: Mapping[str, Any], path: Path) -> RawConfig:
    """Split parsed TOML into sections; pure apart from naming `path` in errors."""
    if path.name == "pyproject.toml":
        data = _tool_section(data, path) or {}
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
        return parse_config(_parse_toml(explicit), explicit)
    found = find_config(start or Path.cwd())
    if found is None:
        return RawConfig(path=None)
    path, data = found
    return parse_config(data, path)
