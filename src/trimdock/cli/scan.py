"""`trimdock scan IMAGE`: inventory (SBOM), known vulnerabilities, attack surface, secrets,
and the `[scan.policy]` gate."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from trimdock import __version__
from trimdock.cli.common import (
    ConfigOption,
    FindingFormatOption,
    ImageArgument,
    InsecureOption,
    NoColorOption,
    NoVerifyOption,
    OutputOption,
    PlatformOption,
    QuietOption,
    settings,
)
from trimdock.config import RawConfig
from trimdock.errors import ConfigError, UsageError
from trimdock.image.open import open_image
from trimdock.report.finding import Finding, ImageLocation, Severity
from trimdock.report.formats import FindingFormat, render_findings
from trimdock.report.output import emit, to_json_text
from trimdock.security.findings import POLICY, RULES, scan_findings
from trimdock.security.policy import Policy, Violation, evaluate_policy, parse_policy
from trimdock.security.render import scan_json, summary_lines
from trimdock.security.scanner import ScanResult, scan_image, scan_request
from trimdock.security.vuln.database import Database, default_db_dir, load_database
from trimdock.security.vuln.severity import Level


class SbomFormat(StrEnum):
    CYCLONEDX = "cyclonedx"
    SPDX = "spdx"


CONFIG_KEYS: dict[str, type | tuple[type, ...]] = {"policy": dict, "db": (str, list)}


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)


def scan(
    image: ImageArgument,
    platform: PlatformOption = None,
    format: FindingFormatOption = FindingFormat.TEXT,
    output: OutputOption = None,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    config: ConfigOption = None,
    db: Annotated[
        list[Path] | None,
        typer.Option(
            "--db",
            help="OSV database: a folder of OSV JSON/YAML records or all.zip exports, or one "
            "file (repeatable; default: the cache folder `trimdock db update` fills).",
        ),
    ] = None,
    severity: Annotated[
        str | None,
        typer.Option(
            "--severity",
            help="Report vulnerabilities of this severity or above: low, medium, high, critical.",
        ),
    ] = None,
    show_secrets: Annotated[
        bool,
        typer.Option("--show-secrets", help="Show secret values in full (default: redacted)."),
    ] = False,
    sbom: Annotated[
        SbomFormat | None,
        typer.Option(
            "--sbom",
            help="Write the inventory as an SBOM (CycloneDX 1.6 or SPDX 2.3 JSON) instead "
            "of the report.",
            case_sensitive=False,
        ),
    ] = None,
    insecure: InsecureOption = False,
    no_verify: NoVerifyOption = False,
) -> None:
    """Inventory (SBOM), known vulnerabilities (offline), attack surface and secrets.

    Vulnerabilities come from a local OSV database only (see `trimdock db`); without one,
    the rest is still reported. Exit codes: 0 pass, 1 the [scan.policy] gate failed,
    2 bad input.
    """
    raw = settings(config)
    policy = _policy(raw)
    min_level = _severity(severity)
    database, db_names = _database(db, raw)
    today = dt.datetime.now(dt.UTC).date()
    with open_image(
        image, platform=platform, verify=not no_verify, insecure=insecure, keep=scan_request()
    ) as img:
        result = scan_image(img, database)
    if sbom is not None:
        # Imported on demand: the SBOM libraries take longer to import than a small scan.
        from trimdock.security.sbom import cyclonedx_json, spdx_json

        writer = cyclonedx_json if sbom is SbomFormat.CYCLONEDX else spdx_json
        document = writer(result.image, result.inventory, now=dt.datetime.now(dt.UTC))
        if not (quiet and output is None):
            emit(document, output)
        return
    violations = None
    if not policy.empty:
        bases = _base_layers(result, policy)
        violations = evaluate_policy(result, policy, today=today, base_layers=bases)
    findings = scan_findings(result, today=today, reveal=show_secrets, min_level=min_level)
    findings.extend(_policy_findings(result, violations or ()))
    if not (quiet and output is None):
        emit(
            _report(
                result,
                findings,
                violations,
                format,
                db_names,
                show_secrets,
                no_color,
                output,
                today,
            ),
            output,
        )
    if violations:
        raise typer.Exit(1)


def _base_layers(result: ScanResult, policy: Policy) -> dict[str, tuple[str, ...]]:
    """The allowed bases' layers from the local engine, only when the image has no base label
    (the label decides otherwise, and the engine is not asked)."""
    from trimdock.security.bases import local_base_layers
    from trimdock.security.policy import BASE_DIGEST_LABEL, BASE_NAME_LABEL

    labels = dict(result.image.config.labels)
    if not policy.allowed_bases or labels.get(BASE_NAME_LABEL) or labels.get(BASE_DIGEST_LABEL):
        return {}
    return local_base_layers(policy.allowed_bases)


def _report(
    result: ScanResult,
    findings: list[Finding],
    violations: list[Violation] | None,
    fmt: FindingFormat,
    db_names: list[str],
    reveal: bool,
    no_color: bool,
    output: Path | None,
    today: dt.date,
) -> str:
    if fmt is FindingFormat.JSON:
        return to_json_text(
            scan_json(result, findings, violations, database=db_names, reveal=reveal)
        )
    if fmt is FindingFormat.HTML:
        # The page is laid out from the JSON document: the same figures, the same redaction.
        from trimdock.security.html import render_scan_html

        document = scan_json(result, findings, violations, database=db_names, reveal=reveal)
        return render_scan_html(document, today)
    rendered = render_findings(
        findings,
        fmt,
        rules=RULES,
        sources={},
        tool_version=__version__,
        files=[result.image.reference],
        color=not no_color and output is None and _tty(),
    )
    if fmt is not FindingFormat.TEXT:
        return rendered
    header = summary_lines(result, db_names)
    if violations is not None:
        header.append(
            "Policy passed" if not violations else f"Policy FAILED: {len(violations)} violations"
        )
    return "\n".join(header) + "\n\n" + rendered


def _tty() -> bool:
    import sys

    return sys.stdout.isatty()


def _policy_findings(result: ScanResult, violations: Any) -> list[Finding]:
    return [
        Finding(
            POLICY,
            Severity.ERROR,
            f"[scan.policy] {v.rule}: {v.message}",
            ImageLocation(result.image.reference, v.path, v.layer),
            title=RULES[POLICY].title,
        )
        for v in violations
    ]


def _policy(raw: RawConfig) -> Policy:
    section = raw.section("scan", CONFIG_KEYS)
    table = section.get("policy")
    if table is None:
        return Policy()
    return parse_policy(table, where=raw.where)


def _severity(text: str | None) -> Level:
    if text is None:
        return Level.UNKNOWN
    try:
        return Level.parse(text)
    except ValueError as exc:
        raise UsageError(str(exc), source="--severity") from None


def _database(paths: list[Path] | None, raw: RawConfig) -> tuple[Database | None, list[str]]:
    configured = raw.section("scan", CONFIG_KEYS).get("db")
    if not paths and configured is not None:
        values = [configured] if isinstance(configured, str) else configured
        if not all(isinstance(v, str) for v in values):
            raise ConfigError("must be a path or a list of paths", source=raw.source("scan", "db"))
        paths = [Path(v) for v in values]
    if paths:
        return load_database(paths), [str(p) for p in paths]
    from trimdock.security.vuln.update import has_database

    cache = default_db_dir()
    if has_database(cache):
        return load_database([cache]), [str(cache)]
    import sys

    sys.stderr.write(
        "trimdock: warning: no vulnerability database: run `trimdock db update` or pass "
        "--db PATH; vulnerabilities are not checked\n"
    )
    return None, []
