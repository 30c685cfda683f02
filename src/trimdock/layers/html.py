"""The layer report as one self-contained HTML page: the JSON report's figures as tables, and
the final filesystem (plus the wasted bytes) as a treemap drawn from an inline data block.

The page's data is the JSON report itself (`analysis_json`, with the `reclaim` member when
that analysis ran, so the page and `--format json` can never disagree) beside the bounded
filesystem tree (`fstree`). `reclaimable`, when the reclaim analysis ran, is a list parallel to
the tree's nodes: the bytes that could go at or below each node (the same files the report's
categories count, so node 0 holds the report's reclaimable total).
"""

from __future__ import annotations

from typing import Any

from trimdock.image.model import Image
from trimdock.layers.analysis import WasteAnalysis
from trimdock.layers.fstree import DEFAULT_BUDGET, REST, FsTree, build_tree, tree_json
from trimdock.layers.gate import GateResult
from trimdock.layers.overlay import Overlay
from trimdock.layers.reclaim.classify import Achievable, FinalFile, ReclaimReport
from trimdock.layers.reclaim.render import reclaim_json
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
    reclaim: tuple[ReclaimReport, Achievable] | None = None,
    purpose: str = "app",
) -> dict[str, Any]:
    """What the page shows: the JSON report and the final filesystem's largest nodes.

    The report is `--format json`'s, with its two path lists cut to the largest
    `MAX_LISTED` (as `--top MAX_LISTED` would): with `--top 0` an image can have tens of
    thousands, each naming its instructions, which no page needs in full.
    """
    report = analysis_json(image, analysis, gate)
    report["wasted_paths"] = report["wasted_paths"][:MAX_LISTED]
    report["dive"]["inefficient_files"] = report["dive"]["inefficient_files"][:MAX_LISTED]
    tree = build_tree(overlay, budget=budget)
    per_node = None
    if reclaim is not None:
        report["reclaim"] = reclaim_json(reclaim[0], reclaim[1], purpose)
        per_node = reclaimable_per_node(tree, reclaim[0].classified)
    return {
        "schema": SCHEMA,
        "report": report,
        "tree": tree_json(tree),
        "reclaimable": per_node,
    }


def reclaimable_per_node(tree: FsTree, classified: tuple[tuple[FinalFile, str], ...]) -> list[int]:
    """Reclaimable bytes at or below each node of `tree`.

    A classified file counts at its own node when the tree kept it, else in the "rest" node
    of its layer under its deepest kept directory (where the tree put its bytes)."""
    paths: dict[str, int] = {"": 0}
    rests: dict[tuple[int, int], int] = {}
    full = [""] * len(tree)
    for index in range(1, len(tree)):
        parent = tree.parents[index]
        if tree.kinds[index] == REST:
            rests[(parent, tree.layers[index])] = index
            continue
        name = tree.names[index]
        full[index] = f"{full[parent]}/{name}" if parent else name
        paths[full[index]] = index
    sums = [0] * len(tree)
    for file, _category in classified:
        found = paths.get(file.path)
        if found is None:
            directory = file.path.rpartition("/")[0]
            while directory not in paths:
                directory = directory.rpartition("/")[0]
            found = rests.get((paths[directory], file.layer), paths[directory])
        sums[found] += file.bytes
    # Children come after their parent: summed from the last node up, each is complete
    # before it is added to its parent.
    for index in range(len(tree) - 1, 0, -1):
        sums[tree.parents[index]] += sums[index]
    return sums


def render_layers_html(
    image: Image,
    analysis: WasteAnalysis,
    gate: GateResult | None,
    overlay: Overlay,
    reclaim: tuple[ReclaimReport, Achievable] | None = None,
    purpose: str = "app",
) -> str:
    data = layers_page_data(image, analysis, gate, overlay, reclaim=reclaim, purpose=purpose)
    return render_page("layers.html.j2", report=data["report"], data=data, schema=SCHEMA)
