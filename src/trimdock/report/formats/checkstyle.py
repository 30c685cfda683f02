"""Checkstyle XML in the shape hadolint writes (`hadolint --format checkstyle`).

Every checked file gets a `<file>` element, empty when clean, as checkstyle itself does; an
image finding is reported under the image name, with the path inside it in the message.
Checkstyle knows error, warning and info; trimdock's `style` maps to `info`.
"""

from __future__ import annotations

from trimdock.report.finding import FileLocation, ImageLocation, Severity
from trimdock.report.formats.common import Context, image_target
from trimdock.report.formats.xml_util import document, element

SEVERITY = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "info",
    Severity.STYLE: "info",
}


def render(ctx: Context) -> str:
    root = element("checkstyle", {"version": "4.3"})
    for name, findings in ctx.groups(with_clean_files=True):
        node = element("file", {"name": name})
        root.append(node)
        for finding in findings:
            loc = finding.location
            attrs: dict[str, str | int | None] = {}
            message = finding.message
            if isinstance(loc, FileLocation):
                attrs = {"line": loc.line, "column": loc.column}
            elif isinstance(loc, ImageLocation):
                message = f"{image_target(loc)}: {message}"
            attrs |= {
                "severity": SEVERITY[finding.severity],
                "message": message,
                "source": finding.rule_id,
            }
            node.append(element("error", attrs))
    return document(root)
