"""The pure parts of registry auth: a `WWW-Authenticate` challenge, and a token service's answer
as a token with the time to refresh it (distribution's docs/spec/auth/token.md).

A token lives `expires_in` seconds from its issue (60 when the answer omits it). The client
counts from the moment it *sent* the token request, which is before the service issued it, so
the deadline errs early; a small margin more covers a registry request still in flight when the
token dies. Short-lived tokens (some services give 60 s or less) are refreshed before use
instead of costing a 401 round trip on every request after they expire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEFAULT_LIFETIME = 60.0  # the spec's default when `expires_in` is missing
MAX_MARGIN = 5.0
_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "bearer", "basic", "" when there was no header
    params: dict[str, str] = field(default_factory=dict)

    @property
    def error(self) -> str:
        """The registry's reason on a refused token: "invalid_token", "insufficient_scope"."""
        return self.params.get("error", "")


def parse_challenge(header: str) -> Challenge:
    scheme, _, params = header.strip().partition(" ")
    return Challenge(scheme.lower(), dict(_PARAM.findall(params)))


@dataclass(frozen=True)
class Token:
    value: str
    refresh_at: float  # on the caller's monotonic clock

    def due(self, now: float) -> bool:
        return now >= self.refresh_at


def parse_token_answer(document: object, requested_at: float) -> Token | None:
    """The token in a token service's JSON answer (`token`, else OAuth2's `access_token`), or
    None when there is none; `requested_at` is when the request was sent (monotonic)."""
    if not isinstance(document, dict):
        return None
    value = document.get("token") or document.get("access_token")
    if not isinstance(value, str) or not value:
        return None
    lifetime = document.get("expires_in")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        lifetime = DEFAULT_LIFETIME
    margin = min(MAX_MARGIN, lifetime / 10)
    return Token(value, requested_at + lifetime - margin)
