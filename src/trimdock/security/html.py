"""`scan --format html`: the scan report as one self-contained page.

The page is laid out from the JSON document (`render.scan_json`) and nothing else, so every
figure and every secret value it shows is the JSON report's, redacted exactly as there.
Escaping is the template engine's (see trimdock.report.html).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from trimdock.security.vuln.severity import Level

# Most severe first: the order the vulnerabilities table starts in.
SEVERITIES = tuple(reversed(Level))  # critical, high, medium, low, unknown


def _rank(severity: str) -> int:
    try:
        return Level(severity).rank
    except ValueError:
        return -1


def scan_page_view(document: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """What the template shows, derived from the JSON document (pure)."""
    packages = list(document["packages"])
    vulns = document["vulnerabilities"]
    levels = Counter(v["severity"] for v in vulns or ())
    os_info = document["os"]
    eol = os_info.get("eol") if os_info else None
    return {
        "packages": packages,
        "visible": sum(1 for p in packages if not p["deleted"]),
        "deleted": sum(1 for p in packages if p["deleted"]),
        "vulnerabilities": None
        if vulns is None
        else sorted(
            vulns,
            key=lambda v: (-_rank(v["severity"]), -(v["score"] or 0.0), v["package"], v["id"]),
        ),
        "levels": {level.value: levels[level.value] for level in SEVERITIES},
        "eol_passed": eol is not None and dt.date.fromisoformat(eol) < today,
    }


def render_scan_html(document: dict[str, Any], today: dt.date) -> str:
    """The page of one scan report (`document` as `scan_json` builds it)."""
    from trimdock.report.html import MAX_ROWS, render_page  # jinja2 only when asked for

    return render_page(
        "scan.html.j2",
        doc=document,
        view=scan_page_view(document, today),
        rank=_rank,
        schema=document["schema"],
        data=None,
        max_rows=MAX_ROWS,
    )
