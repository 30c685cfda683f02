"""hadolint ids that trimdock knows but has no rule for, so a team's pragmas never break a run.

Every DL id of hadolint 2.15.1 is either the `peer_id` of a TD rule (registry.BY_PEER) or listed
here with hadolint's own message (read from hadolint's output on probe Dockerfiles; DL3063 fired
on none). A test checks this list against the ids in the hadolint binary.
"""

from __future__ import annotations

from collections.abc import Mapping

HADOLINT_VERSION = "2.15.1"

# id -> hadolint's message; why trimdock has no equivalent is in docs/lint.md.
WITHOUT_EQUIVALENT: Mapping[str, str] = {
    "DL1000": "Invalid Dockerfile syntax (hadolint's parse error; trimdock reports TD001)",
    "DL1001": "Please refrain from using inline ignore pragmas",
    "DL3010": "Use ADD for extracting archives into an image",
    "DL3029": "Do not use --platform flag with FROM",
    "DL3035": "Do not use `zypper dist-upgrade`",
    "DL3043": "`ONBUILD`, `FROM` or `MAINTAINER` triggered from within `ONBUILD` instruction",
    "DL3048": "Invalid label key",
    "DL3049": "Label is missing",
    "DL3050": "Superfluous label(s) present",
    "DL3051": "Label is empty",
    "DL3052": "Label is not a valid URL",
    "DL3053": "Label is not a valid time format (RFC3339)",
    "DL3054": "Label is not a valid SPDX license identifier",
    "DL3055": "Label is not a valid git hash",
    "DL3056": "Label does not conform to semantic versioning",
    "DL3057": "`HEALTHCHECK` instruction missing",
    "DL3058": "Label is not a valid email format",
    "DL3062": "Pin versions in go: `go install <package>@<version>`",
    "DL3063": "(a hadolint 2.15 rule; no probe Dockerfile fired it)",
    "DL3065": "Setting `FROM --platform` to predefined `$TARGETPLATFORM` is redundant",
    "DL3066": "Non-numeric user-id may not be resolvable by host system",
    "DL3067": "Do not copy an entire filesystem from another stage",
}


def known_without_equivalent(rule_id: str) -> str | None:
    """hadolint's message when `rule_id` is a hadolint id trimdock has no rule for."""
    return WITHOUT_EQUIVALENT.get(rule_id.strip().upper())
