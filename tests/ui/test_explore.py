"""`trimdock explore` driven by Textual's headless pilot: keys pressed, tree and figures read
back, and an SVG screenshot of the main view kept as a test artefact and checked structurally."""

from __future__ import annotations

import asyncio
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static, Tree
from textual.widgets.tree import TreeNode

from tests.html.browser import ARTEFACTS, published
from tests.html.examples import SHIPPED, example_image
from tests.layers.builders import content, image
from tests.support.engine import build_image
from trimdock.cli.explore import load_model
from trimdock.cli.main import run
from trimdock.layers.analysis import analyze_layers
from trimdock.layers.overlay import Overlay
from trimdock.report.units import human_bytes
from trimdock.ui.app import MAX_CHILDREN, RECLAIM_SYMBOL, ExploreApp, HelpScreen
from trimdock.ui.model import ExploreModel, View

SIZE = (120, 36)


def drive(app: ExploreApp, steps: Callable[[ExploreApp, object], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await steps(app, pilot)

    asyncio.run(main())


def nodes(tree: Tree[object]) -> list[TreeNode[object]]:
    found: list[TreeNode[object]] = []
    stack = [tree.root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.children)
    return found


def labels(app: ExploreApp) -> list[str]:
    tree: Tree[object] = app.query_one("#files", Tree)
    return [str(node.label) for node in nodes(tree)]


def summary(app: ExploreApp) -> str:
    return str(app.query_one("#summary", Static).render())


def memory_model(layers: list[list[tuple[object, bytes]]], commands: list[str]) -> ExploreModel:
    img = image(layers, commands)  # type: ignore[arg-type]
    overlay = Overlay(record_hidden=True)
    analysis = analyze_layers((layer.content.entries() for layer in img.layers), overlay=overlay)
    return ExploreModel.from_overlay(
        img.reference, tuple(layer.instruction for layer in img.layers), analysis, overlay
    )


@pytest.fixture(scope="module")
def archive_v1(engine: None) -> tuple[ExploreModel, dict]:  # type: ignore[type-arg]
    tag = example_image("archive-v1")
    return load_model(tag), {"tag": tag}


@pytest.mark.engine
def test_explore_the_archive_example(
    archive_v1: tuple[ExploreModel, dict],  # type: ignore[type-arg]
    capsys: pytest.CaptureFixture[str],
) -> None:
    model, info = archive_v1
    assert run(["layers", info["tag"], "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    layers = report["layers"]
    last = len(layers) - 1

    def visible_at(index: int) -> int:
        # What is visible after layer N: everything shipped so far, less what was hidden.
        return sum(x["size_bytes"] - x["hidden_bytes"] for x in layers[: index + 1])

    async def steps(app: ExploreApp, pilot: object) -> None:
        press = pilot.press  # type: ignore[attr-defined]
        table = app.query_one("#layers", DataTable)
        assert table.row_count == len(layers)
        # Opens at the last layer: the final filesystem, the JSON report's visible bytes.
        assert app.layer == last
        assert visible_at(last) == report["totals"]["visible_bytes"]
        assert f"layer {last} of {last}" in summary(app)
        assert human_bytes(report["totals"]["visible_bytes"]) in summary(app)
        assert labels(app)[0].split()[0:2] == human_bytes(visible_at(last)).split()
        assert any("+  sdk-tool" in label for label in labels(app))  # added by the last layer
        # An empty directory of the image is shown, as empty.
        root = app.query_one("#files", Tree).root
        empty = {str(n.label).split()[-2] for n in root.children if "(empty)" in str(n.label)}
        assert "root/" in empty, [str(n.label) for n in root.children]
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        app.save_screenshot("explore-archive-v1.svg", path=str(ARTEFACTS))
        # The layer before: the SDK is there, and marked as wasted.
        await press("up")
        assert app.layer == last - 1
        assert human_bytes(visible_at(last - 1)) in summary(app)
        assert any(label.endswith("sdk/  61 changed  !60.0 MB wasted") for label in labels(app))
        # Only waste: every byte layers 0..N shipped that a later layer hides.
        await press("w")
        shipped = sum(x["wasted_bytes"] for x in layers[:last])
        assert app.model.figures(app.model.root, app.layer, View.WASTE).bytes == shipped
        assert human_bytes(shipped) in summary(app)
        samples = [label for label in labels(app) if "sample-00.txt" in label]
        assert samples and "! sample-00.txt  shipped by #2, deleted by #3" in samples[0]
        # Search within the view.
        await press("slash", *"sample-0", "enter")
        assert app.model.figures(app.model.root, app.layer, View.WASTE, "sample-0").files == 10
        assert "matching 'sample-0'" in summary(app)
        await press("escape")
        assert app.search == ""
        # Only what the last layer changed: one file added, the SDK and its archive removed.
        await press("a", "tab", "down")
        app.query_one("#layers", DataTable).focus()
        await press("down", "c")
        assert app.layer == last
        changed = layers[last]["files_added"] + layers[last]["files_deleted"]
        assert app.model.figures(app.model.root, last, View.CHANGES).changed == changed
        shown = labels(app)
        assert any(label.endswith("-! sample-59.txt") for label in shown)
        assert any(label.endswith(" tmp/  1 changed") for label in shown)
        # Sort by name, then help and back.
        await press("s")
        assert "sorted by name" in summary(app)
        await press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await press("escape")
        assert not isinstance(app.screen, HelpScreen)

    drive(ExploreApp(model), steps)
    fresh = ARTEFACTS / "explore-archive-v1.svg"
    check_svg(fresh, report)
    # The README's picture: the same screen, structurally (text per row, tag hash aside).
    copy = published(fresh, "explore-archive-v1.svg")
    assert svg_rows(copy) == svg_rows(fresh)


def svg_rows(path: Path) -> list[str]:
    """The text of a Textual SVG screenshot, one string per <text> element, with the build's
    content hash (in the image tag) normalised."""
    root = ET.parse(path).getroot()
    texts = (e for e in root.iter() if e.tag.endswith("text"))
    rows = ["".join(e.itertext()).replace("\xa0", " ") for e in texts]
    return [re.sub(r":[0-9a-f]{16}\b", ":HASH", row) for row in rows]


def check_svg(path: Path, report: dict) -> None:  # type: ignore[type-arg]
    """The screenshot is a well-formed SVG of the main view: the summary, the layer list, the
    tree and the footer keys are all in it (as text, not pixels)."""
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(
        "".join(e.itertext()).replace("\xa0", " ") for e in root.iter() if e.tag.endswith("text")
    )
    assert "trimdock explore" in text
    assert report["image"]["reference"].split("/")[-1].split(":")[0] in text
    assert "instruction" in text and "wasted" in text
    for key in ("changes", "waste", "search", "sort", "help", "quit"):
        assert key in text
    assert "sdk-tool" in text and "busybox" in text
    for layer in report["layers"]:
        assert human_bytes(layer["size_bytes"]) in text


def test_tree_is_lazy_and_names_are_not_markup() -> None:
    many = [content(f"big/f{i:05d}", b"x" * 10) for i in range(3000)]
    small = [content(f"small/s{i:04d}", b"y") for i in range(1000)]
    hostile = [content("odd/[bold]x[blink]", b"z"), content("odd/esc\x1b[31mred", b"z")]
    model = memory_model([many, small + hostile], ["COPY big /big", "COPY small /small"])

    async def steps(app: ExploreApp, pilot: object) -> None:
        tree: Tree[object] = app.query_one("#files", Tree)
        made = nodes(tree)
        # /big is large: opened, its first MAX_CHILDREN files made, the rest on one line;
        # /small and /odd stay closed and have no child widgets at all.
        assert len(made) <= MAX_CHILDREN + 10
        assert any(f"{3000 - MAX_CHILDREN} more" in str(n.label) for n in made)
        closed = [n for n in made if str(n.label).endswith(("small/  1000 changed", "odd/"))]
        assert closed and all(not n.children for n in closed)
        odd = next(n for n in made if "odd/" in str(n.label))
        odd.expand()
        await pilot.pause()  # type: ignore[attr-defined]
        shown = [str(n.label) for n in odd.children]
        assert any("[bold]x[blink]" in label for label in shown), shown
        assert any("esc\\x1b[31mred" in label for label in shown)

    drive(ExploreApp(model), steps)


def test_without_a_terminal_it_says_so_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["explore", "any-image"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trimdock: explore: needs a terminal") and err.count("\n") == 1


@pytest.mark.engine
@pytest.mark.parametrize("example", SHIPPED)
def test_every_shipped_example_opens_on_its_final_filesystem(
    engine: None, example: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = example_image(example)
    assert run(["layers", tag, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    model = load_model(tag)

    async def steps(app: ExploreApp, pilot: object) -> None:
        assert app.query_one("#layers", DataTable).row_count == len(report["layers"])
        root = labels(app)[0]
        assert root.split()[:2] == human_bytes(report["totals"]["visible_bytes"]).split()
        assert f"in {report['totals']['visible_files']} files" in summary(app)
        await pilot.press("w")  # type: ignore[attr-defined]
        assert human_bytes(report["totals"]["wasted_bytes"]) in summary(app)

    drive(ExploreApp(model), steps)


@pytest.mark.engine
def test_reclaimable_view_lists_categories_and_marks_their_paths(
    engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`r`: only what the reclaim analysis counts, the same figures as `trimdock layers`;
    each file marked with a symbol and its category; `r` again: one category at a time."""
    tag = build_image("ui-reclaim", Path(__file__).parent / "fixtures" / "reclaim")
    assert run(["layers", tag, "--format", "json"]) == 0
    reclaim = json.loads(capsys.readouterr().out)["reclaim"]
    categories = reclaim["categories"]
    assert len(categories) >= 3, categories
    model = load_model(tag)

    async def steps(app: ExploreApp, pilot: object) -> None:
        press = pilot.press  # type: ignore[attr-defined]
        # The filesystem view marks reclaimable files too (the model names their category).
        logs = model.root.dirs["var"].dirs["log"].dirs["app"]
        (log,) = model.files(logs, app.layer, View.ALL)
        assert log.category == "logs" and RECLAIM_SYMBOL in str(app._file_label(log))
        await press("r")
        assert app.view is View.RECLAIM
        assert "reclaimable:" in summary(app)
        assert human_bytes(reclaim["reclaimable_bytes"]) in summary(app)
        root = model.figures(model.root, app.layer, View.RECLAIM)
        assert root.bytes == reclaim["reclaimable_bytes"]
        assert root.files == sum(c["files"] for c in categories)
        panel = str(app.query_one("#instruction", Static).render())
        for category in categories:
            assert category["label"] in panel and human_bytes(category["bytes"]) in panel
            assert category["practice"][:30] in panel
        files = [label for label in labels(app) if f" {RECLAIM_SYMBOL} " in label]
        assert len(files) == root.files
        assert all(label.split()[-1] in {c["category"] for c in categories} for label in files)
        assert not any(label.endswith(" main") for label in labels(app))
        # One category after the other, each with its own figures, then all again.
        for category in categories:
            await press("r")
            assert app.category == category["category"]
            assert f"({category['label']})" in summary(app)
            shown = model.figures(model.root, app.layer, View.RECLAIM, "", app.category)
            assert shown.bytes == category["bytes"]
            assert human_bytes(category["bytes"]) in summary(app)
            marked = [label for label in labels(app) if f" {RECLAIM_SYMBOL} " in label]
            assert marked and all(label.endswith(category["category"]) for label in marked)
        await press("r")
        assert app.category == "" and app.view is View.RECLAIM
        # The layer before the last: only what it and its elders shipped.
        await press("up")
        earlier = model.figures(model.root, app.layer, View.RECLAIM).bytes
        last_layer = sum(c["bytes"] for c in reclaim["items"] if c["layer"] == app.layer + 1)
        assert earlier == reclaim["reclaimable_bytes"] - last_layer
        await press("a")
        assert app.view is View.ALL and app.category == ""

    drive(ExploreApp(model), steps)
