"""Scan results as findings (the one finding model), with the rules they cite, so every lint
format (SARIF for code scanning, JUnit, GitLab, checkstyle) carries them."""

from __future__ import annotations

import datetime as dt

from trimdock.image.model import Image
from trimdock.report.finding import Finding, ImageLocation, Severity
from trimdock.report.rules import RuleInfo
from trimdock.security.scanner import ScanResult
from trimdock.security.surface import Category, SurfaceItem
from trimdock.security.vuln.severity import Level

VULNERABILITY = "TD901"
EOL = "TD902"
SECRET = "TD903"
POLICY = "TD904"
SURFACE_RULES = {
    Category.SHELL: "TD911",
    Category.PACKAGE_MANAGER: "TD912",
    Category.COMPILER: "TD913",
    Category.NETWORK_TOOL: "TD914",
    Category.SUDO: "TD915",
    Category.SETUID: "TD916",
    Category.WORLD_WRITABLE: "TD917",
    Category.ROOT_USER: "TD918",
}


def _rule(rule_id: str, title: str, severity: Severity, what: str, why: str) -> RuleInfo:
    return RuleInfo(
        rule_id=rule_id,
        title=title,
        severity=severity,
        what=what,
        why=why,
        example="trimdock scan IMAGE",
        instead="Use a smaller base, a multi-stage build, or remove it in the stage that adds it.",
        category="security",
    )


RULES: dict[str, RuleInfo] = {
    r.rule_id: r
    for r in (
        _rule(
            VULNERABILITY,
            "Known vulnerability",
            Severity.ERROR,
            "A package whose version an OSV advisory lists as affected.",
            "Known vulnerabilities are what automated attacks try first.",
        ),
        _rule(
            EOL,
            "End-of-life base",
            Severity.ERROR,
            "The distribution release no longer gets security fixes.",
            "Every new vulnerability stays unfixed in an end-of-life release.",
        ),
        _rule(
            SECRET,
            "Secret in the image",
            Severity.ERROR,
            "A credential in the config or in a layer's files (deleted ones too).",
            "Anyone who can pull the image can extract it, from any layer.",
        ),
        _rule(
            POLICY,
            "Policy violation",
            Severity.ERROR,
            "The image breaks a rule of [scan.policy].",
            "Golden images are the gate everything else builds on.",
        ),
        _rule(
            SURFACE_RULES[Category.SHELL],
            "Shell in the image",
            Severity.INFO,
            "A shell an attacker can run commands with.",
            "Without a shell, code execution cannot easily chain commands.",
        ),
        _rule(
            SURFACE_RULES[Category.PACKAGE_MANAGER],
            "Package manager in the image",
            Severity.INFO,
            "A package manager that can install new software at run time.",
            "An attacker can install tools the image does not ship.",
        ),
        _rule(
            SURFACE_RULES[Category.COMPILER],
            "Compiler or SDK in the image",
            Severity.WARNING,
            "A compiler or SDK: the image can compile and run new code.",
            "Build tools belong in a build stage, not in the runtime image.",
        ),
        _rule(
            SURFACE_RULES[Category.NETWORK_TOOL],
            "Network tool in the image",
            Severity.INFO,
            "curl, wget, nc and the like: download payloads, open reverse shells.",
            "Network tools make the first step of an intrusion easy.",
        ),
        _rule(
            SURFACE_RULES[Category.SUDO],
            "sudo in the image",
            Severity.WARNING,
            "sudo/doas: privilege escalation inside the container.",
            "Containers should not need privilege changes at run time.",
        ),
        _rule(
            SURFACE_RULES[Category.SETUID],
            "setuid/setgid file",
            Severity.INFO,
            "A file that runs with its owner's or group's privileges.",
            "setuid programs are the usual path to root.",
        ),
        _rule(
            SURFACE_RULES[Category.WORLD_WRITABLE],
            "World-writable path",
            Severity.WARNING,
            "A file or folder anyone may write, outside the temporary folders.",
            "Lets any user plant or change code that others run.",
        ),
        _rule(
            SURFACE_RULES[Category.ROOT_USER],
            "Runs as root",
            Severity.WARNING,
            "The image's USER is root or unset.",
            "A process that breaks out of the application starts as root.",
        ),
    )
}

_LEVEL_SEVERITY = {
    Level.CRITICAL: Severity.ERROR,
    Level.HIGH: Severity.ERROR,
    Level.MEDIUM: Severity.WARNING,
    Level.LOW: Severity.INFO,
    Level.UNKNOWN: Severity.WARNING,  # not rated is not harmless
}


def _layer_text(image: Image, layer: int) -> str:
    if layer < 0 or layer >= len(image.layers):
        return "the config"
    instruction = image.layers[layer].instruction
    return f"layer {layer} ({instruction[:60]})" if instruction else f"layer {layer}"


def scan_findings(
    result: ScanResult, *, today: dt.date, reveal: bool = False, min_level: Level = Level.UNKNOWN
) -> list[Finding]:
    image = result.image
    ref = image.reference
    findings: list[Finding] = []
    os = result.inventory.os
    if os is not None and os.is_eol(today):
        assert os.eol is not None
        findings.append(
            Finding(
                EOL,
                Severity.ERROR,
                f"{os.pretty_name} reached end of life on {os.eol.isoformat()}"
                f" (per {os.eol_source})",
                ImageLocation(ref, "/" + os.path, os.layer),
                title=RULES[EOL].title,
                evidence=(("eol", os.eol.isoformat()), ("eol_source", os.eol_source)),
            )
        )
    for vuln in result.vulnerabilities or ():
        if vuln.level.rank < min_level.rank:
            continue
        package = vuln.package
        cves = f" ({', '.join(vuln.cves)})" if vuln.cves and vuln.id not in vuln.cves else ""
        deleted = ", deleted by a later layer but still shipped" if package.deleted else ""
        findings.append(
            Finding(
                VULNERABILITY,
                _LEVEL_SEVERITY[vuln.level],
                f"{package.name} {package.version}: {vuln.id}{cves} {vuln.level.value}"
                f"{f' {vuln.score:.1f}' if vuln.score is not None else ''}: {vuln.fix_text}"
                f"{deleted}",
                ImageLocation(ref, "/" + package.path, package.layer),
                title=RULES[VULNERABILITY].title,
                evidence=(
                    ("ids", list(vuln.ids)),
                    ("purl", package.purl),
                    ("fixed", vuln.fixed),
                    ("summary", vuln.summary),
                ),
            )
        )
    findings.extend(_surface_findings(image, result.surface))
    for secret in result.secrets:
        where = (
            (secret.path if secret.where == "history" else f"{secret.where} {secret.path}")
            if secret.where != "file"
            else f"/{secret.path}:{secret.line} in {_layer_text(image, secret.layer)}"
        )
        deleted = " (deleted by a later layer, still extractable)" if secret.deleted else ""
        findings.append(
            Finding(
                SECRET,
                Severity.ERROR,
                f"{secret.kind} {secret.shown(reveal)} in {where}{deleted}",
                ImageLocation(
                    ref,
                    "/" + secret.path if secret.where == "file" else None,
                    secret.layer if secret.layer >= 0 else None,
                ),
                title=RULES[SECRET].title,
                evidence=(("kind", secret.kind), ("fingerprint", secret.fingerprint)),
            )
        )
    return findings


def _surface_findings(image: Image, items: tuple[SurfaceItem, ...]) -> list[Finding]:
    findings: list[Finding] = []
    ref = image.reference
    for category, rule_id in SURFACE_RULES.items():
        found = [i for i in items if i.category is category]
        if not found:
            continue
        rule = RULES[rule_id]
        if category is Category.ROOT_USER:
            findings.append(
                Finding(
                    rule_id,
                    rule.severity,
                    f"the image runs as root (USER {found[0].detail})",
                    ImageLocation(ref),
                    title=rule.title,
                )
            )
            continue
        per_path = category in (Category.SETUID, Category.WORLD_WRITABLE)
        shown: dict[str, SurfaceItem] = {}
        for item in sorted(found, key=lambda i: (i.layer, i.path)):
            # Tools once per name (busybox's applets, /bin and /usr/bin twins), files per path.
            shown.setdefault("/" + item.path if per_path else item.detail, item)
        first = min(found, key=lambda i: (i.layer, i.path))
        listed = ", ".join(f"{name} (layer {i.layer})" for name, i in list(shown.items())[:12])
        more = f" and {len(shown) - 12} more" if len(shown) > 12 else ""
        lead = {
            Category.COMPILER: "this image can compile and run new code",
            Category.SHELL: "this image has a shell",
            Category.PACKAGE_MANAGER: "this image can install new software",
            Category.NETWORK_TOOL: "this image can download and connect out",
            Category.SUDO: "this image can change privileges",
            Category.SETUID: "setuid/setgid files",
            Category.WORLD_WRITABLE: "world-writable paths outside the temporary folders",
        }[category]
        findings.append(
            Finding(
                rule_id,
                rule.severity,
                f"{lead}: {listed}{more}",
                ImageLocation(ref, "/" + first.path, first.layer),
                title=rule.title,
                evidence=(("paths", ["/" + i.path for i in found]),),
            )
        )
    return findings
