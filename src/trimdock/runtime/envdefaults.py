"""ENV defaults baked into an image that belong to the platform, not the image: secrets and
values that only fit one environment (a host, a URL, `APP_ENV=development`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from trimdock.rules.security import secret_name, secret_value

# Names whose value says which environment this is.
_ENV_NAME = re.compile(r"(^|_)(ENV|ENVIRONMENT|PROFILE|PROFILES_ACTIVE|STAGE)$", re.I)
_NON_PRODUCTION = re.compile(r"^(dev|development|debug|local|test|testing|staging|stage|qa)$", re.I)
# A URL or connection string naming a host other than the container itself.
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?(?P<host>\[[^\]]+\]|[^:/\s?#]+)", re.I)
_HOST_NAME = re.compile(r"(^|_)(HOST|HOSTNAME|SERVER|ADDR|ADDRESS|ENDPOINT|URL|URI|DSN)$", re.I)
_LOCAL = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]", "[::]", "::"}
# Variables every base image sets; never the app's environment-specific config.
_STANDARD = {"PATH", "HOME", "LANG", "LC_ALL", "TERM", "HOSTNAME", "SHLVL", "PWD", "TZ"}


@dataclass(frozen=True)
class EnvDefault:
    name: str
    kind: str  # "secret" or "environment"
    reason: str


def _host_of(value: str) -> str | None:
    match = _URL.match(value.strip())
    return match.group("host").lower() if match else None


def classify(name: str, value: str) -> EnvDefault | None:
    if name in _STANDARD or not value:
        return None
    if secret_value(value) or (secret_name(name) and value.strip()):
        return EnvDefault(name, "secret", "looks like a credential")
    if _ENV_NAME.search(name) and _NON_PRODUCTION.match(value.strip()):
        return EnvDefault(name, "environment", f"non-production default {value!r}")
    host = _host_of(value)
    if host is not None and host not in _LOCAL:
        return EnvDefault(name, "environment", f"names host {host!r}")
    plain = value.strip()
    if (
        host is None
        and _HOST_NAME.search(name)
        and plain.lower() not in _LOCAL
        and re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", plain)
    ):
        return EnvDefault(name, "environment", f"names host {value.strip()!r}")
    return None


def env_defaults(env: Iterable[tuple[str, str]]) -> tuple[EnvDefault, ...]:
    found = (classify(name, value) for name, value in env)
    return tuple(item for item in found if item is not None)
