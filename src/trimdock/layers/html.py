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


def layers_page_data(
    image: Image,
    analysis: WasteAnalysis,
    gate: GateResult | None,
    overlay: Overlay,
    *,
    budget: int = DEFAULT_BUDGET,
) -> dict[str, Any]:
    """What the page shows: the JSON report and the final filesystem's largest nodes."""
    return {
        "schema": SCHEMA,
        "report": analysis_json(image, analysis, gate),
        "tree": tree_json(build_tree(overlay, budget=budget)),
        "reclaimable": None,
    }


def render_layers_html(
    image: Image,
    analysis: WasteAnalysis,
    gate: GateResult | None,
    overlay: Overlay,
) -> str:
    data = layers_page_data(image, analysis, gate, overlay)
    return render_page("layers.html.j2", report=data["report"], data=data, schema=SCHEMA)
