"""`trimdock lint compose.yaml`: read the file, gather facts about its builds, run the rules.

Findings use the Dockerfile lint's settings (`[lint] ignore`, `severity`, `--ignore`) and its
finding model and formats; pragmas are YAML comments of the same shape
(`# trimdock ignore=TD707` above a key, or at the end of its line).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from trimdock.dockerfile import parse
from trimdock.dockerfile.source import read_dockerfile
from trimdock.errors import ComposeError, DockerfileError
from trimdock.report.finding import FileLocation, Finding
from trimdock.rules.engine import LintSettings, lint
from trimdock.runtime.compose.load import ComposeFile, parse_compose
from trimdock.runtime.compose.rules import (
    RULES,
    SCHEMA_RULE,
    BuildFacts,
    ComposeFacts,
    ComposeHit,
    services,
)
from trimdock.runtime.compose.schema import schema_errors

_COMPOSE_NAME = re.compile(r"^(docker-)?compose(\.[\w.-]+)?\.ya?ml$", re.I)
_SERVICES = re.compile(r"^services\s*:", re.M)
SNIFF_BYTES = 64 * 1024


def is_compose_file(name: str) -> bool:
    """By name (compose.yaml, docker-compose.prod.yml, ...), or a YAML file with a top-level
    `services:` key. A Dockerfile never is one."""
    path = Path(name)
    if _COMPOSE_NAME.match(path.name):
        return True
    if path.suffix.lower() not in (".yml", ".yaml") or not path.is_file():
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return _SERVICES.search(handle.read(SNIFF_BYTES)) is not None
    except OSError:
        return False


def read_compose(name: str) -> ComposeFile:
    try:
        text = Path(name).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ComposeError("no such file", source=name) from None
    except IsADirectoryError:
        raise ComposeError("is a directory, not a Compose file", source=name) from None
    except UnicodeDecodeError:
        raise ComposeError("not UTF-8 text: not a Compose file", source=name) from None
    except OSError as exc:
        raise ComposeError(f"cannot read: {exc.strerror or exc}", source=name) from None
    return parse_compose(text, name)


def _build_spec(build: Any) -> tuple[str, str] | None:
    if isinstance(build, str):
        return build, "Dockerfile"
    if isinstance(build, dict) and isinstance(build.get("context", "."), str):
        if "dockerfile_inline" in build:
            return None
        return str(build.get("context", ".")), str(build.get("dockerfile") or "Dockerfile")
    return None


def gather_facts(compose: ComposeFile, settings: LintSettings) -> ComposeFacts:
    """Each local build context: is there a .dockerignore, and what lint says of its Dockerfile."""
    base = Path(compose.path).parent
    builds: dict[str, BuildFacts] = {}
    for name, service in services(compose):
        spec = _build_spec(service.get("build"))
        if spec is None or "://" in spec[0] or "$" in spec[0]:
            continue  # a remote or interpolated context cannot be looked at here
        context = base / spec[0]
        dockerfile = context / spec[1]
        label = os.path.relpath(dockerfile)
        if not context.is_dir():
            builds[name] = BuildFacts(spec[0], exists=False)
            continue
        # Context analysis' rule: the Dockerfile-specific ignore file wins over .dockerignore.
        ignore = (dockerfile.parent / f"{dockerfile.name}.dockerignore").is_file() or (
            context / ".dockerignore"
        ).is_file()
        found: tuple[tuple[str, Any], ...] = ()
        try:
            shown, text = read_dockerfile(str(dockerfile))
            found = tuple((f.rule_id, f.severity) for f in lint(parse(text, shown), settings))
        except DockerfileError:
            pass  # no Dockerfile there (yet): nothing to report about it
        builds[name] = BuildFacts(spec[0], True, ignore, label, found)
    return ComposeFacts(builds)


def _finding(
    compose: ComposeFile,
    rule_id: str,
    hit: ComposeHit,
    settings: LintSettings,
    title: str,
    default: Any,
) -> Finding:
    where = compose.at(hit.path)
    return Finding(
        rule_id=rule_id,
        severity=settings.severity.get(rule_id) or default,
        message=hit.message,
        location=FileLocation(
            compose.path, where.line, where.column, where.end_line, where.end_column
        ),
        title=title,
        evidence=hit.evidence,
    )


def lint_compose(
    compose: ComposeFile, settings: LintSettings, facts: ComposeFacts | None = None
) -> list[Finding]:
    """Schema violations (TD700) and rule findings, pragmas and settings applied."""
    facts = facts if facts is not None else ComposeFacts()
    hits: list[tuple[str, str, Any, ComposeHit]] = [
        (SCHEMA_RULE.rule_id, SCHEMA_RULE.title, SCHEMA_RULE.severity, ComposeHit(path, message))
        for path, message in schema_errors(compose.data)
    ]
    for rule in RULES:
        info = rule.info
        hits += [
            (info.rule_id, info.title, info.severity, hit) for hit in rule.check(compose, facts)
        ]
    findings = []
    for rule_id, title, severity, hit in hits:
        if rule_id in settings.ignore:
            continue
        finding = _finding(compose, rule_id, hit, settings, title, severity)
        assert isinstance(finding.location, FileLocation)
        if compose.ignored(frozenset({rule_id}), finding.location.line):
            continue
        findings.append(finding)
    findings.sort(
        key=lambda f: (getattr(f.location, "line", 0), getattr(f.location, "column", 0), f.rule_id)
    )
    return findings


def check_file(name: str, settings: LintSettings) -> tuple[str, str, list[Finding]]:
    """(label, text, findings) of one Compose file; ComposeError when it cannot be read."""
    compose = read_compose(name)
    return (
        compose.path,
        compose.text,
        lint_compose(compose, settings, gather_facts(compose, settings)),
    )
