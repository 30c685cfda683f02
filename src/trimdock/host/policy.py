"""Prune policies: what may go, built from `.trimdock.toml` `[prune]` and command-line options.

`[prune]` top-level keys are defaults every named policy inherits; `[prune.policies.NAME]`
tables override them. Nested tables are validated with the same strictness as sections:
an unknown key is an error naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Any

from trimdock.config import CONFIG_FILE, RawConfig
from trimdock.errors import ConfigError, UsageError
from trimdock.host.duration import format_duration, parse_duration


@dataclass(frozen=True)
class Policy:
    name: str = "default"
    dangling: bool = True  # untagged images nobody builds on
    unused_older_than: timedelta | None = None  # tagged images not used for this long
    keep_newest: int | None = None  # per repository, whatever their age
    protect: tuple[str, ...] = ()  # globs on repo:tag, repo, image id, container/volume name
    containers_older_than: timedelta | None = None  # stopped containers, by time stopped
    volumes: bool = False  # dangling volumes: data, so only on request
    build_cache: bool = False
    repos: tuple[str, ...] = ()  # scope: only images with a tag in these repositories
    labels: tuple[str, ...] = ()  # scope: only objects carrying these labels (KEY or KEY=VALUE)

    def describe(self) -> list[str]:
        """The policy's rules in words, for the plan header."""
        rules = []
        if self.dangling:
            rules.append("dangling images")
        if self.unused_older_than is not None and self.keep_newest is not None:
            rules.append(
                f"images unused for {format_duration(self.unused_older_than)} "
                f"beyond the newest {self.keep_newest} per repository"
            )
        elif self.unused_older_than is not None:
            rules.append(f"images unused for {format_duration(self.unused_older_than)}")
        elif self.keep_newest is not None:
            rules.append(f"images beyond the newest {self.keep_newest} per repository")
        if self.containers_older_than is not None:
            rules.append(f"containers stopped for {format_duration(self.containers_older_than)}")
        if self.volumes:
            rules.append("dangling volumes")
        if self.build_cache:
            rules.append("build cache")
        return rules

    def as_json(self) -> dict[str, Any]:
        def seconds(value: timedelta | None) -> int | None:
            return None if value is None else int(value.total_seconds())

        return {
            "name": self.name,
            "dangling": self.dangling,
            "unused_older_than_seconds": seconds(self.unused_older_than),
            "keep_newest": self.keep_newest,
            "protect": list(self.protect),
            "containers_older_than_seconds": seconds(self.containers_older_than),
            "volumes": self.volumes,
            "build_cache": self.build_cache,
            "repos": list(self.repos),
            "labels": list(self.labels),
        }


# config key -> (accepted TOML types, Policy field)
POLICY_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "dangling": (bool, "dangling"),
    "unused-older-than": (str, "unused_older_than"),
    "keep-newest": (int, "keep_newest"),
    "protect": (list, "protect"),
    "containers-older-than": (str, "containers_older_than"),
    "volumes": (bool, "volumes"),
    "build-cache": (bool, "build_cache"),
    "repos": (list, "repos"),
    "labels": (list, "labels"),
}
SECTION_KEYS: dict[str, type | tuple[type, ...]] = {
    **{key: types for key, (types, _) in POLICY_KEYS.items()},
    "policies": dict,
}
_LIST_FIELDS = {"protect", "repos", "labels"}


def policy_from_table(
    table: Mapping[str, Any], *, base: Policy, where: str, table_name: str
) -> Policy:
    """Overlay one TOML table on `base`, checking every key and value."""
    changes: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in POLICY_KEYS:
            known = ", ".join(sorted(POLICY_KEYS))
            raise ConfigError(
                f"unknown key '{key}' in [{table_name}] (known keys: {known})", source=where
            )
        types, attr = POLICY_KEYS[key]
        if isinstance(raw, bool) and types is not bool:
            raise ConfigError(f"[{table_name}] {key} must not be a boolean", source=where)
        if not isinstance(raw, types):
            raise ConfigError(f"[{table_name}] {key} has type {type(raw).__name__}", source=where)
        value: Any = raw
        if attr in _LIST_FIELDS:
            if not all(isinstance(item, str) for item in value):
                raise ConfigError(f"[{table_name}] {key} must be a list of strings", source=where)
            changes[attr] = tuple(value)
        elif attr.endswith("older_than"):
            changes[attr] = parse_duration(value, source=f"{where}: [{table_name}] {key}")
        elif attr == "keep_newest":
            changes[attr] = check_keep_newest(value, source=f"{where}: [{table_name}] {key}")
        else:
            changes[attr] = value
    return replace(base, **changes)


def check_keep_newest(value: int, *, source: str) -> int:
    if value < 0:
        raise UsageError(f"keep-newest must be 0 or more, not {value}", source=source)
    return value


def load_policy(config: RawConfig, name: str | None) -> Policy:
    """The named policy from `[prune.policies.NAME]`, or the `[prune]` defaults when None."""
    section = config.section("prune", SECTION_KEYS)
    where = str(config.path) if config.path else CONFIG_FILE
    defaults = {key: value for key, value in section.items() if key != "policies"}
    base = policy_from_table(defaults, base=Policy(), where=where, table_name="prune")
    policies = section.get("policies", {})
    for policy_name, table in policies.items():
        if not isinstance(table, dict):
            raise ConfigError(f"[prune.policies.{policy_name}] must be a table", source=where)
    if name is None:
        return base
    if name not in policies:
        known = ", ".join(sorted(policies)) or "none defined"
        raise UsageError(
            f"unknown policy {name!r} (policies in [prune.policies]: {known})",
            source=str(config.path) if config.path else "--policy",
        )
    return policy_from_table(
        policies[name],
        base=replace(base, name=name),
        where=where,
        table_name=f"prune.policies.{name}",
    )


def validate_all(config: RawConfig) -> None:
    """Check every named policy, so a typo in an unused one is found before the cron night."""
    section = config.section("prune", SECTION_KEYS)
    for name in section.get("policies", {}):
        load_policy(config, name)


def override(policy: Policy, **options: Any) -> Policy:
    """Apply command-line options: given scalars replace, lists extend the policy's."""
    names = {f.name for f in fields(Policy)}
    changes: dict[str, Any] = {}
    for key, value in options.items():
        if key not in names:
            raise AssertionError(f"unknown policy field {key}")
        if value is None:
            continue
        if key in _LIST_FIELDS:
            if value:
                changes[key] = tuple(dict.fromkeys((*getattr(policy, key), *value)))
        else:
            changes[key] = value
    return replace(policy, **changes)
