"""Run the catalogue over a parsed Dockerfile: pragmas, config ignores and severity overrides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trimdock.dockerfile.model import Dockerfile
from trimdock.errors import ConfigError
from trimdock.report.finding import FileLocation, Finding, Severity, TextEdit
from trimdock.report.threshold import DEFAULT as DEFAULT_THRESHOLD
from trimdock.report.threshold import choose_threshold
from trimdock.rules.analysis import Analysis, LintOptions
from trimdock.rules.peers import known_without_equivalent
from trimdock.rules.pragmas import read_pragmas
from trimdock.rules.registry import BY_PEER, RULES, lookup
from trimdock.rules.shellcheck import shellcheck_id

CONFIG_KEYS: Mapping[str, type | tuple[type, ...]] = {
    "ignore": list,
    "severity": dict,
    "allowed-registries": list,
    "allowed-images": list,
    "failure-threshold": str,
    "shellcheck": bool,  # false: no ShellCheck run on RUN bodies
}


@dataclass(frozen=True)
class LintSettings:
    ignore: frozenset[str] = frozenset()  # TD ids
    severity: Mapping[str, Severity] = field(default_factory=dict)
    options: LintOptions = field(default_factory=LintOptions)
    failure_threshold: Severity | None = DEFAULT_THRESHOLD  # None: never fail
    shellcheck: bool = True  # run ShellCheck on RUN bodies (rules/shellcheck.py)


def _rule_id(text: Any, where: str) -> str | None:
    """The TD id for `text`; None for a hadolint id trimdock has no rule for (nothing to do)."""
    if not isinstance(text, str):
        raise ConfigError(f"{where}: rule ids must be strings, got {text!r}")
    code = shellcheck_id(text)
    if code is not None:  # ShellCheck findings carry their SC id (rules/shellcheck.py)
        return code
    info = lookup(text)
    if info is None:
        if known_without_equivalent(text):
            return None
        raise ConfigError(f"{where}: unknown rule id {text!r}")
    return info.rule_id


def _strings(values: list[Any], where: str) -> tuple[str, ...]:
    if not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(values)


def settings_from_config(section: Mapping[str, Any], source: str = "[lint]") -> LintSettings:
    """Validated settings from the `[lint]` config section (already key-checked)."""
    ignored = (_rule_id(i, f"{source} ignore") for i in section.get("ignore", []))
    ignore = frozenset(i for i in ignored if i is not None)
    severity: dict[str, Severity] = {}
    for key, value in dict(section.get("severity", {})).items():
        rule_id = _rule_id(key, f"{source} severity")
        if not isinstance(value, str):
            raise ConfigError(f"{source} severity.{key} must be a string")
        try:
            parsed = Severity.parse(value)
        except ValueError as exc:
            raise ConfigError(f"{source} severity.{key}: {exc}") from None
        if rule_id is not None:
            severity[rule_id] = parsed
    options = LintOptions(
        allowed_registries=_strings(
            section.get("allowed-registries", []), f"{source} allowed-registries"
        ),
        allowed_images=_strings(section.get("allowed-images", []), f"{source} allowed-images"),
    )
    threshold = choose_threshold(
        None, section.get("failure-threshold"), f"{source} failure-threshold"
    )
    return LintSettings(ignore, severity, options, threshold, section.get("shellcheck", True))


def lint(dockerfile: Dockerfile, settings: LintSettings | None = None) -> list[Finding]:
    """All findings for one parsed Dockerfile, sorted by position."""
    settings = settings or LintSettings()
    analysis = Analysis.build(dockerfile, settings.options)
    pragmas = read_pragmas(dockerfile)
    # Pragmas may name TD or DL ids; normalise DL ids to the TD rule that matches them.
    global_ids = {BY_PEER.get(i, i) for i in pragmas.global_ids}
    canonical: dict[frozenset[str], frozenset[str]] = {}
    findings: list[Finding] = []
    seen: set[tuple[str, int, int, str]] = set()
    for rule in RULES:
        info = rule.info
        if info.rule_id in settings.ignore or info.rule_id in global_ids:
            continue
        for hit in rule.check(analysis):
            line = hit.span.line
            ignored = pragmas.ignored_on(line)
            if ignored and info.rule_id in _canonical(ignored, canonical):
                continue
            key = (info.rule_id, hit.span.line, hit.span.column, hit.message)
            if key in seen:
                continue
            seen.add(key)
            severity = settings.severity.get(info.rule_id) or hit.severity or info.severity
            findings.append(
                Finding(
                    rule_id=info.rule_id,
                    severity=severity,
                    message=hit.message,
                    location=FileLocation(
                        dockerfile.path,
                        hit.span.line,
                        hit.span.column,
                        hit.span.end_line,
                        hit.span.end_column,
                    ),
                    title=info.title,
                    evidence=hit.evidence,
                    fix=tuple(
                        TextEdit(
                            dockerfile.path,
                            e.span.line,
                            e.span.column,
                            e.span.end_line,
                            e.span.end_column,
                            e.replacement,
                        )
                        for e in hit.fix
                    ),
                    peer_id=info.peer_id,
                )
            )
    findings.sort(key=_position)
    return findings


def _canonical(ids: frozenset[str], cache: dict[frozenset[str], frozenset[str]]) -> frozenset[str]:
    """The TD ids of pragma ids as written (DL ids mapped), once per distinct set."""
    found = cache.get(ids)
    if found is None:
        found = cache[ids] = frozenset(BY_PEER.get(i, i) for i in ids)
    return found


def _position(finding: Finding) -> tuple[int, int, str]:
    location = finding.location
    if isinstance(location, FileLocation):
        return (location.line, location.column, finding.rule_id)
    return (0, 0, finding.rule_id)
