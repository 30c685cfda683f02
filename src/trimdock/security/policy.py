"""The golden-image gate: `[scan.policy]` rules checked against a scan result (pure).

[scan.policy]
allowed-bases = ["debian:bookworm*", "sha256:..."]   # org.opencontainers.image.base.* labels;
                                                     # without them, plain names are compared
                                                     # by layers with the local image
banned-packages = ["telnet", "openssh-server"]
banned-licences = ["AGPL-3.0*", "SSPL*"]
max-severity = "medium"                              # no high or critical vulnerability
allow = ["PYSEC-2023-74 until 2027-01-31", "CVE-2018-18074"]
forbid-shell = true
forbid-compiler = true
forbid-package-manager = false
require-non-root = true
forbid-eol = true
forbid-secrets = true
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trimdock.errors import ConfigError
from trimdock.security.bases import built_on
from trimdock.security.scanner import ScanResult
from trimdock.security.surface import Category
from trimdock.security.vuln.severity import Level

BASE_NAME_LABEL = "org.opencontainers.image.base.name"
BASE_DIGEST_LABEL = "org.opencontainers.image.base.digest"

_LISTS = ("allowed-bases", "banned-packages", "banned-licences", "allow")
_FLAGS = {
    "forbid-shell": Category.SHELL,
    "forbid-compiler": Category.COMPILER,
    "forbid-package-manager": Category.PACKAGE_MANAGER,
    "require-non-root": Category.ROOT_USER,
}
_OTHER_FLAGS = ("forbid-eol", "forbid-secrets")
KNOWN_KEYS = frozenset({*_LISTS, *_FLAGS, *_OTHER_FLAGS, "max-severity"})
_ALLOW = re.compile(r"^\s*(?P<id>\S+)(?:\s+until\s+(?P<date>\d{4}-\d{2}-\d{2}))?\s*$")


@dataclass(frozen=True)
class Allowance:
    id: str
    until: dt.date | None


@dataclass(frozen=True)
class Policy:
    allowed_bases: tuple[str, ...] = ()
    banned_packages: tuple[str, ...] = ()
    banned_licences: tuple[str, ...] = ()
    max_severity: Level | None = None
    allow: tuple[Allowance, ...] = ()
    forbidden: frozenset[Category] = frozenset()
    forbid_eol: bool = False
    forbid_secrets: bool = False

    @property
    def empty(self) -> bool:
        return self == Policy()


def parse_policy(table: Mapping[str, Any], *, where: str) -> Policy:
    """A `Policy` from the `[scan.policy]` table; `ConfigError` names the bad key."""
    for key, value in table.items():
        source = f"{where}: [scan.policy] {key}"
        if key not in KNOWN_KEYS:
            known = ", ".join(sorted(KNOWN_KEYS))
            raise ConfigError(
                f"unknown key '{key}' in [scan.policy] (known keys: {known})", source=where
            )
        if key in _LISTS and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise ConfigError("must be a list of strings", source=source)
        if (key in _FLAGS or key in _OTHER_FLAGS) and not isinstance(value, bool):
            raise ConfigError("must be true or false", source=source)
    max_severity = None
    if "max-severity" in table:
        value = table["max-severity"]
        try:
            max_severity = Level.parse(str(value)) if isinstance(value, str) else None
        except ValueError as exc:
            raise ConfigError(str(exc), source=f"{where}: [scan.policy] max-severity") from None
        if max_severity is None:
            raise ConfigError("must be a string", source=f"{where}: [scan.policy] max-severity")
    allow = []
    for text in table.get("allow", []):
        match = _ALLOW.match(text)
        if match is None:
            raise ConfigError(
                f"'{text}' is not 'ID' or 'ID until YYYY-MM-DD'",
                source=f"{where}: [scan.policy] allow",
            )
        until = None
        if match.group("date"):
            try:
                until = dt.date.fromisoformat(match.group("date"))
            except ValueError:
                raise ConfigError(
                    f"'{text}': not a date", source=f"{where}: [scan.policy] allow"
                ) from None
        allow.append(Allowance(match.group("id"), until))
    return Policy(
        allowed_bases=tuple(table.get("allowed-bases", ())),
        banned_packages=tuple(table.get("banned-packages", ())),
        banned_licences=tuple(table.get("banned-licences", ())),
        max_severity=max_severity,
        allow=tuple(allow),
        forbidden=frozenset(c for k, c in _FLAGS.items() if table.get(k)),
        forbid_eol=bool(table.get("forbid-eol")),
        forbid_secrets=bool(table.get("forbid-secrets")),
    )


@dataclass(frozen=True)
class Violation:
    rule: str  # the policy key that failed
    message: str
    path: str | None = None
    layer: int | None = None


def _allowed(ids: tuple[str, ...], policy: Policy, today: dt.date) -> bool:
    return any(a.id in ids and (a.until is None or today <= a.until) for a in policy.allow)


def evaluate_policy(
    result: ScanResult,
    policy: Policy,
    *,
    today: dt.date,
    base_layers: Mapping[str, tuple[str, ...]] | None = None,
) -> list[Violation]:
    """The violations of `policy`. `base_layers`: the DiffIDs of the allowed bases found on
    the local engine (`trimdock.security.bases`), used when the image has no base label."""
    out: list[Violation] = []
    labels = dict(result.image.config.labels)
    if policy.allowed_bases:
        name, digest = labels.get(BASE_NAME_LABEL, ""), labels.get(BASE_DIGEST_LABEL, "")
        diff_ids = tuple(layer.diff_id for layer in result.image.layers)
        if not name and not digest:
            if built_on(diff_ids, dict(base_layers or {})) is None:
                out.append(
                    Violation(
                        "allowed-bases",
                        f"base image unknown (no {BASE_NAME_LABEL} label, and its layers do "
                        "not begin with those of an allowed base on the local engine): cannot "
                        "prove it is an allowed base",
                    )
                )
        elif not any(
            (p.startswith("sha256:") and p == digest) or (name and fnmatch.fnmatchcase(name, p))
            for p in policy.allowed_bases
        ):
            out.append(Violation("allowed-bases", f"base image {name or digest} is not allowed"))
    packages = result.inventory.packages
    for package in packages:
        for pattern in policy.banned_packages:
            if fnmatch.fnmatchcase(package.name, pattern):
                out.append(
                    Violation(
                        "banned-packages",
                        f"banned package {package.name} {package.version}",
                        "/" + package.path,
                        package.layer,
                    )
                )
        licences = re.split(r"\s+(?:AND|OR|WITH)\s+|[()]", package.licence)
        for pattern in policy.banned_licences:
            if any(
                fnmatch.fnmatch(lic.strip().lower(), pattern.lower())
                for lic in licences
                if lic.strip()
            ):
                out.append(
                    Violation(
                        "banned-licences",
                        f"{package.name} {package.version} is licensed "
                        f"{package.licence}, banned by '{pattern}'",
                        "/" + package.path,
                        package.layer,
                    )
                )
    if policy.max_severity is not None:
        for vuln in result.vulnerabilities or ():
            if vuln.level.rank > policy.max_severity.rank and not _allowed(vuln.ids, policy, today):
                out.append(
                    Violation(
                        "max-severity",
                        f"{vuln.id} ({vuln.level.value}) in {vuln.package.name} "
                        f"{vuln.package.version} is above "
                        f"{policy.max_severity.value}: {vuln.fix_text}",
                        "/" + vuln.package.path,
                        vuln.package.layer,
                    )
                )
        if result.vulnerabilities is None:
            out.append(
                Violation(
                    "max-severity",
                    "no vulnerability database: the severity gate cannot pass "
                    "(trimdock db update, or --db PATH)",
                )
            )
    for item in result.surface:
        if item.category in policy.forbidden:
            what = item.detail if item.category is not Category.ROOT_USER else "root user"
            out.append(
                Violation(
                    f"forbidden {item.category.value}",
                    f"{what} at /{item.path} (layer {item.layer})"
                    if item.path
                    else f"runs as {item.detail}",
                    "/" + item.path if item.path else None,
                    item.layer if item.layer >= 0 else None,
                )
            )
    os = result.inventory.os
    if policy.forbid_eol and os is not None and os.is_eol(today):
        assert os.eol is not None
        out.append(
            Violation(
                "forbid-eol",
                f"{os.pretty_name} is end of life since {os.eol.isoformat()} (per {os.eol_source})",
            )
        )
    if policy.forbid_secrets:
        for secret in result.secrets:
            out.append(
                Violation(
                    "forbid-secrets",
                    f"{secret.kind} in {secret.where} {secret.path}",
                    None,
                    secret.layer if secret.layer >= 0 else None,
                )
            )
    return out
