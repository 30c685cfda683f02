"""Render findings in the formats CI systems and editors read.

One entry point, `render_findings`, returns the whole document as a string; writing it is the
caller's job (`report.output.emit`). Every renderer is a pure function of its inputs, so the
same findings always give byte-identical output (the golden tests rely on that).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trimdock.report.finding import Finding
    from trimdock.report.rules import RuleInfo

__all__ = ["FindingFormat", "render_findings"]


class FindingFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    CHECKSTYLE = "checkstyle"
    GITLAB = "gitlab"
    HTML = "html"


def render_findings(
    findings: Sequence[Finding],
    fmt: FindingFormat,
    *,
    rules: Mapping[str, RuleInfo],
    sources: Mapping[str, str],
    tool_version: str,
    files: Sequence[str] = (),
    color: bool = False,
    information_uri: str | None = None,
) -> str:
    """The complete report for `findings` in `fmt`, ending with a newline.

    `sources` maps a `FileLocation.path` to that file's text (for source lines and stable
    fingerprints); `files` lists every input checked, so formats that report passes (text
    summary, JUnit, checkstyle, JSON summary) count clean files too. `color` only affects
    `text` and is ignored when the NO_COLOR environment variable is set.
    """
    from trimdock.report.formats.common import Context  # with the renderers (see below)

    ctx = Context.build(
        findings,
        rules=rules,
        sources=sources,
        tool_version=tool_version,
        files=files,
        information_uri=information_uri,
    )
    # Each renderer is imported when chosen: every command's options name FindingFormat, and
    # the XML and SARIF writers would cost start-up to commands that never print them.
    fmt = FindingFormat(fmt)
    if fmt is FindingFormat.TEXT:
        from trimdock.report.formats import text

        return text.render(ctx, color=color and not os.environ.get("NO_COLOR"))
    if fmt is FindingFormat.JSON:
        from trimdock.report.formats import json_doc

        return json_doc.render(ctx)
    if fmt is FindingFormat.SARIF:
        from trimdock.report.formats import sarif

        return sarif.render(ctx)
    if fmt is FindingFormat.JUNIT:
        from trimdock.report.formats import junit

        return junit.render(ctx)
    if fmt is FindingFormat.CHECKSTYLE:
        from trimdock.report.formats import checkstyle

        return checkstyle.render(ctx)
    if fmt is FindingFormat.HTML:
        from trimdock.report.formats import html

        return html.render(ctx)
    from trimdock.report.formats import gitlab

    return gitlab.render(ctx)
