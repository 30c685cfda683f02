"""`trimdock diff --format html`: the diff's JSON document laid out as one self-contained page.

Nothing is computed here: the page shows `diff_json`'s document (embedded beside it as the
page's data), so the page and `--format json` can never disagree.
"""

from __future__ import annotations

from trimdock.layers.diff import ImageDiff
from trimdock.layers.diffrender import diff_json, headline
from trimdock.layers.gate import GateResult
from trimdock.report.html import render_page

SCHEMA = "trimdock/diff/1"


def render_diff_html(diff: ImageDiff, gate: GateResult | None, top: int | None) -> str:
    document = diff_json(diff, gate, top)
    return render_page(
        "diff.html.j2", doc=document, headline=headline(diff), data=document, schema=SCHEMA
    )
