"""The layer report as one self-contained HTML page: the JSON report's figures as tables, and
the final filesystem (plus the wasted bytes) as a treemap drawn from an inline data block.

The page's data is the JSON report itself (`analysis_json`, so the page and `--format json`
can never disagree) beside the bounded filesystem tree (`fstree`). Later analyses add fields
beside them: `reclaimable`, when present, is a list parallel to the tree's nodes (bytes that
could go at or below each node) and the report's `reclaimable` object gives the total.
"""

from __future__ import annotations

from typing import Any

from trimdock.image.model import Image
from trimdock.layers.analysis import WasteAnalysis
from trimdock.layers.fstree import DEFAULT_BUDGET, build_tree, tree_json
from trimdock.layers.gate import GateResult
from trimdock.layers.overlay import Overlay
from trimdock.layers.render import analysis_json
from trimdock.report.html import render_page

SCHEMA = "trimdock/layers-html/1"
MAX_LISTED = 1000


def layers_page_data(
    image: Image,
    analysis: WasteAnalysis,
    gate: GateResult | None,
    overlay: Overlay,
    *,
    budget: int = DEFAULT_BUDGET,
    reclaim: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the page shows: the JSON report and the final filesystem's largest nodes.

    The report is `--format json`'s, with its two path lists cut to the largest
    `MAX_LISTED` (as `--top MAX_LISTED` would): with `--top 0` an image can have tens of
    thousands, each naming its instructions, which no page needs in full.
    """
    report = analysis_json(image, analysis, gate)
    report["wasted_paths"] = report["wasted_paths"][:MAX_LISTED]
    report["dive"]["inefficient_files"] = report["dive"]["inefficient_files"][:MAX_LISTED]
    if reclaim is not None:  # the same member `--format json` adds
        report["reclaim"] = reclaim
    return {
        "schema": SCHEMA,
        "report": report,
        "tree": tree_json(build_tree(overlay, budget=budget)),
        "reclaimable": None,
    }


def render_layers_html(
    image: Image,
    analysis: WasteAnalysis,
    gate: GateResult | None,
    overlay: Overlay,
    *,
    reclaim: dict[str, Any] | None = None,
) -> str:
    data = layers_page_data(image, analysis, gate, overlay, reclaim=reclaim)
    return render_page("layers.html.j2", report=data["report"], data=data, schema=SCHEMA)
