"""The failure threshold of every gating command (lint, context; scan and check use it too).

One set of names, one default and one parser, so `--failure-threshold` and the config key
`failure-threshold` mean the same in every command: exit 1 when a finding is at least this
severe; `none` never fails.
"""

from __future__ import annotations

from collections.abc import Iterable

from trimdock.errors import ConfigError, UsageError
from trimdock.report.finding import Finding, Severity

NAMES = ("error", "warning", "info", "style", "none")
DEFAULT = Severity.WARNING
OPTION = "--failure-threshold"


def threshold_help(section: str) -> str:
    """The option's help text for a command whose config section is `section`."""
    return (
        "Exit 1 when a finding is at least this severe: error, warning, info, style or none "
        f"(default: {DEFAULT.value}, or [{section}] failure-threshold)."
    )


def parse_threshold(text: object, where: str = OPTION) -> Severity | None:
    """The severity named by `text`, None for `none`; `where` names the option or config key.

    A bad command-line value is a usage error, a bad config value a config error (both exit 2).
    """
    error = UsageError if where.startswith("-") else ConfigError
    if not isinstance(text, str):
        raise error(f"expected one of {', '.join(NAMES)}, got {text!r}", source=where)
    value = text.strip().lower()
    if value == "none":
        return None
    try:
        return Severity(value)
    except ValueError:
        raise error(
            f"unknown failure threshold {text!r} (one of: {', '.join(NAMES)})", source=where
        ) from None


def choose_threshold(
    option: str | None, configured: object | None = None, config_source: str = "config"
) -> Severity | None:
    """The command line wins over the config file, which wins over the default."""
    if option is not None:
        return parse_threshold(option, OPTION)
    if configured is not None:
        return parse_threshold(configured, config_source)
    return DEFAULT


def fails(findings: Iterable[Finding], threshold: Severity | None) -> bool:
    """True when a finding reaches the threshold (exit 1)."""
    return threshold is not None and any(f.severity.at_least(threshold) for f in findings)
