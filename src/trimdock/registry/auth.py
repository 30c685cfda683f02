"""Registry credentials as the docker CLI keeps them: `$DOCKER_CONFIG/config.json` (default
`~/.docker/config.json`): `auths.<host>.auth` (base64 `user:password`), or a credential helper
(`credHelpers.<host>`, else `credsStore`) run as `docker-credential-<helper> get` with the host
on stdin. Docker Hub's credentials are stored under `https://index.docker.io/v1/`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trimdock.errors import ImageSourceError
from trimdock.registry.names import HUB

_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print a secret by accident
        return f"Credentials(username={self.username!r}, password=***)"


def config_path() -> Path:
    folder = os.environ.get("DOCKER_CONFIG")
    return (Path(folder) if folder else Path.home() / ".docker") / "config.json"


def _keys(registry: str) -> tuple[str, ...]:
    if registry == HUB:
        return _HUB_KEYS
    return (registry, f"https://{registry}", f"http://{registry}", f"https://{registry}/v1/")


def credentials_for(registry: str) -> Credentials | None:
    """The stored credentials for `registry`, or None (anonymous access)."""
    path = config_path()
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ImageSourceError(f"cannot read the docker config ({exc})", source=str(path)) from exc
    if not isinstance(config, dict):
        raise ImageSourceError("the docker config is not a JSON object", source=str(path))
    keys = _keys(registry)
    helpers = _table(config, "credHelpers")
    for key in keys:
        if isinstance(helpers.get(key), str):
            return _from_helper(helpers[key], key)
    auths = _table(config, "auths")
    for key in keys:
        entry = auths.get(key)
        if isinstance(entry, dict) and isinstance(entry.get("auth"), str) and entry["auth"]:
            try:
                user, sep, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise ImageSourceError(
                    f"auths.{key}.auth is not base64 'user:password'", source=str(path)
                ) from exc
            if not sep:
                raise ImageSourceError(f"auths.{key}.auth has no ':'", source=str(path))
            return Credentials(user, password)
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        for key in keys[:1]:
            return _from_helper(store, key)
    return None


def _table(config: dict[str, Any], key: str) -> dict[str, Any]:
    value = config.get(key)
    return value if isinstance(value, dict) else {}


def _from_helper(helper: str, key: str) -> Credentials | None:
    program = f"docker-credential-{helper}"
    try:
        done = subprocess.run(
            [program, "get"], input=key, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ImageSourceError(f"the credential helper failed ({exc})", source=program) from exc
    if done.returncode != 0:
        if "credentials not found" in (done.stdout + done.stderr).lower():
            return None
        message = (done.stderr or done.stdout).strip().splitlines()
        raise ImageSourceError(
            f"the credential helper failed for {key}: {message[0] if message else 'no output'}",
            source=program,
        )
    try:
        answer = json.loads(done.stdout)
        return Credentials(str(answer["Username"]), str(answer["Secret"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ImageSourceError(
            "the credential helper's answer is not JSON", source=program
        ) from exc
