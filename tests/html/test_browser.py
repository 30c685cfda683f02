"""The HTML reports in a real browser (Debian's chromium, headless): the figures the page shows
are the JSON report's, its scripts run without an error, hostile names stay text, and every
shipped example renders to a PNG kept as a test artefact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.html.browser import (
    ARTEFACTS,
    WIDTH,
    Element,
    Rendered,
    png_size,
    published,
    render,
)
from tests.html.examples import EXAMPLES, SHIPPED, example_image
from tests.html.hostile import HOSTILE_INSTRUCTION, HOSTILE_NAMES
from tests.support.engine import build_image
from trimdock.cli.main import run
from trimdock.report.units import human_bytes

pytestmark = pytest.mark.engine

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def prepared() -> None:
    if not (EXAMPLES / "archive" / "v3" / "sdk.tar.gz").is_file():
        subprocess.run([sys.executable, str(EXAMPLES / "prepare.py")], check=True)


def report(reference: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[dict, Path]:  # type: ignore[type-arg]
    """The JSON report of `reference` and its HTML page (written as an artefact)."""
    assert run(["layers", reference, "--format", "json", *extra]) == 0
    data = json.loads(capsys.readouterr().out)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page = ARTEFACTS / f"layers-{reference.replace('/', '_').replace(':', '_')}.html"
    assert run(["layers", reference, "--format", "html", "--output", str(page), *extra]) == 0
    return data, page


def check_clean(shown: Rendered) -> Element:
    """The page ran every script without an error and drew its treemap."""
    html = shown.dom.find_all("html")[0]
    assert "data-js-error" not in html.attrs, html.attrs["data-js-error"]
    assert shown.console == []
    assert html.attrs.get("data-tables") == "ready"
    width, height = png_size(shown.png)
    assert width == WIDTH and height > 500
    assert shown.png.stat().st_size > 10_000  # drawn, not blank
    return shown.dom


def check_figures(dom: Element, data: dict) -> None:  # type: ignore[type-arg]
    totals = data["totals"]
    assert dom.find_all("html")[0].attrs.get("data-treemap") == "ready"
    for ident, key in (
        ("total-size", "size_bytes"),
        ("total-visible", "visible_bytes"),
        ("total-wasted", "wasted_bytes"),
    ):
        element = dom.by_id(ident)
        assert int(element.attrs["data-bytes"]) == totals[key]
        assert element.text().startswith(human_bytes(totals[key]))
    # Computed by the page's script from the embedded data: the treemap's leaves add up to
    # the visible bytes, its wasted branch to the wasted bytes.
    summary = dom.by_id("treemap-summary")
    assert int(summary.attrs["data-visible-bytes"]) == totals["visible_bytes"]
    assert int(summary.attrs["data-wasted-bytes"]) == totals["wasted_bytes"]
    assert int(dom.by_id("treemap").attrs["data-drawn"]) > 1
    rows = dom.by_id("layers-table").find_all("tbody")[0].find_all("tr")
    assert len(rows) == totals["layers"] == len(data["layers"])
    for row, layer in zip(rows, data["layers"], strict=True):
        cells = row.find_all("td")
        assert cells[0].text().strip() == str(layer["index"])
        shown = cells[-1].text()
        assert shown == (layer["instruction"] or "(no instruction recorded)")
    check_reclaim(dom, data)
    if data["wasted_paths"]:
        rows = dom.by_id("waste-table").find_all("tbody")[0].find_all("tr")
        assert [r.find_all("td")[3].text() for r in rows] == [
            w["path"] for w in data["wasted_paths"]
        ]


def check_reclaim(dom: Element, data: dict) -> None:  # type: ignore[type-arg]
    """The reclaimable figures the page shows are the JSON report's `reclaim` member, and the
    treemap's reclaimable leaves (summed by the page's script) add up to its total."""
    reclaim = data["reclaim"]
    for ident, value in (
        ("total-reclaimable", reclaim["reclaimable_bytes"]),
        ("reclaim-certain", reclaim["certain_bytes"]),
        ("reclaim-likely", reclaim["likely_bytes"]),
        ("total-achievable", reclaim["achievable"]["achievable_bytes"]),
        ("achievable-low", reclaim["achievable"]["achievable_low_bytes"]),
    ):
        element = dom.by_id(ident)
        assert int(element.attrs["data-bytes"]) == value, ident
        assert element.text().startswith(human_bytes(value)), ident
    ratio = float(dom.by_id("size-ratio").attrs["data-value"])
    assert ratio == pytest.approx(reclaim["achievable"]["size_ratio"])
    summary = dom.by_id("treemap-summary")
    assert int(summary.attrs["data-reclaimable-bytes"]) == reclaim["reclaimable_bytes"]
    if not reclaim["categories"]:
        assert "Nothing reclaimable found" in dom.by_id("reclaim").text()
        return
    rows = dom.by_id("reclaim-table").find_all("tbody")[0].find_all("tr")
    shown = []
    for row in rows:
        cells = row.find_all("td")
        shown.append(
            {
                "category": row.attrs["data-category"],
                "bytes": int(cells[0].attrs["data-bytes"]),
                "files": int(cells[1].text()),
                "label": cells[2].text(),
                "confidence": cells[3].text(),
                "layers": [int(t) for t in cells[4].text().replace("#", " ").split()],
                "practice": cells[5].text(),
                "rules": [c.text() for c in cells[6].find_all("code")],
            }
        )
    assert shown == reclaim["categories"]
    assert sum(row["bytes"] for row in shown) == reclaim["reclaimable_bytes"]
    items = dom.by_id("reclaim-items").find_all("tbody")[0].find_all("tr")
    assert [int(r.find_all("td")[0].attrs["data-bytes"]) for r in items] == [
        item["bytes"] for item in reclaim["items"]
    ]


@pytest.mark.parametrize("example", SHIPPED)
def test_shipped_example_reports_render_with_the_json_figures(
    engine: None, prepared: None, example: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = example_image(example)
    data, page = report(tag, capsys)
    shown = render(page, f"layers-{example}")
    check_figures(check_clean(shown), data)
    if example == "archive-v1":  # the README's picture of the report
        copy = published(shown.png, "layers-html-archive-v1.png")
        assert png_size(copy) == png_size(shown.png)


def test_hostile_names_appear_as_text(engine: None, capsys: pytest.CaptureFixture[str]) -> None:
    tag = build_image("html-hostile", FIXTURES / "hostile")
    data, page = report(tag, capsys)
    shown = render(page, "layers-hostile")
    dom = check_clean(shown)
    check_figures(dom, data)
    # Nothing the image says became an element: the page's own four scripts, no image.
    assert len(dom.find_all("script")) == 4
    assert dom.find_all("img") == []
    text = dom.text()
    assert f"/data/{HOSTILE_NAMES[0]}" in text  # the deleted file, in the waste table
    assert "echo '<b>bold</b></script><script>alert(4)</script>' > /data/note" in text
    assert dom.find_all("b") == [] and dom.find_all("i") == []
    # A reclaimable file with a hostile name: the reclaim tables show it as text.
    examples = [e for item in data["reclaim"]["items"] for e in item["examples"]]
    assert any(e == "/srv/<i>x</i>/<script>alert(5)</script>/.env" for e in examples), examples
    shown = dom.by_id("reclaim-items").text()
    assert all(e in shown for e in examples)
    embedded = json.loads(dom.by_id("report-data").text())
    tree = embedded["tree"]
    paths: list[str] = []
    for node_name, parent in zip(tree["names"], tree["parents"], strict=True):
        paths.append("" if parent < 0 else f"{paths[parent]}/{node_name}")
    assert {f"/data/{n}" for n in HOSTILE_NAMES[1:4]} & set(paths)
    assert "/data/</script><script>alert(3)</script>" in paths


def test_lint_and_context_pages_render(
    prepared: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfiles = sorted(str(p) for p in EXAMPLES.glob("*/*/Dockerfile"))
    args = ["lint", "--failure-threshold", "none", *dockerfiles]
    assert run([*args, "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)  # a fresh clone has no tmp/artefacts yet
    page = ARTEFACTS / "lint-examples.html"
    assert run([*args, "--format", "html", "--output", str(page)]) == 0
    dom = check_clean(render(page, "lint-examples"))
    assert int(dom.by_id("total-findings").attrs["data-count"]) == summary["findings"]
    assert len(dom.find_all("pre")) == summary["findings"]
    context = str(EXAMPLES / "build-context" / "v1")
    assert run(["context", context, "--failure-threshold", "none", "--format", "json"]) == 0
    sent = json.loads(capsys.readouterr().out)["sent"]
    page = ARTEFACTS / "context-build-context-v1.html"
    assert (
        run(
            ["context", context, "--failure-threshold", "none", "--format", "html", "-o", str(page)]
        )
        == 0
    )
    dom = check_clean(render(page, "context-build-context-v1"))
    assert f"files: {sent['files']}" in dom.by_id("field-sent").text()


def test_df_page_renders(engine: None, capsys: pytest.CaptureFixture[str]) -> None:
    page = ARTEFACTS / "df-host.html"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    assert run(["df", "--format", "html", "--output", str(page)]) == 0
    dom = check_clean(render(page, "df-host"))
    assert dom.by_id("field-totals").text().count("total_bytes: ") == 1
    assert dom.find_all("table")


def test_lint_index_and_a_10k_character_run_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Several files get an index; a RUN line of 10,000 characters is shown elided around its
    finding, whole behind a click, and the page stays as wide as the window."""
    packages = " ".join(f"package-number-{i:05d}" for i in range(480))
    long_run = f"RUN apt-get install -y {packages}"
    assert len(long_run) > 10_000
    (tmp_path / "long").mkdir()
    (tmp_path / "long" / "Dockerfile").write_text(f"FROM debian:bookworm-slim\n{long_run}\n")
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "Dockerfile").write_text("FROM debian:bookworm-slim\nUSER nobody\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "Dockerfile").write_text("FROM debian\nRUN cd /tmp\n")
    files = sorted(str(p) for p in tmp_path.glob("*/Dockerfile"))
    args = ["lint", "--failure-threshold", "none", *files]
    assert run([*args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    page = ARTEFACTS / "lint-long-line.html"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    assert run([*args, "--format", "html", "--output", str(page)]) == 0
    shown = render(page, "lint-long-line")
    dom = check_clean(shown)
    html = dom.find_all("html")[0]
    assert int(html.attrs["data-scroll-width"]) <= WIDTH
    per_file: dict[str, int] = dict.fromkeys(files, 0)
    for finding in data["findings"]:
        per_file[finding["location"]["file"]] += 1
    assert per_file[str(tmp_path / "long" / "Dockerfile")] > 0
    rows = dom.by_id("files-table").find_all("tbody")[0].find_all("tr")
    assert {r.find_all("td")[0].text(): int(r.find_all("td")[1].text()) for r in rows} == per_file
    fulls = [d.find_all("pre")[0].text() for d in dom.find_all("details")]
    assert fulls and set(fulls) == {long_run}
    elided = [p.text() for p in dom.find_all("pre") if "…" in p.text()]
    assert elided and all(len(text) < 1000 for text in elided)
    assert all(len(line) < 1000 for p in dom.find_all("pre") for line in p.text().splitlines()
               if p not in [d.find_all("pre")[0] for d in dom.find_all("details")])  # fmt: skip


def test_context_page_with_long_names_keeps_its_width(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packages = " ".join(f"package-number-{i:05d}" for i in range(480))
    (tmp_path / "Dockerfile").write_text(
        f"FROM debian:bookworm-slim\nCOPY . /app\nRUN apt-get install -y {packages}\n"
    )
    long_name = "n" * 240 + ".txt"
    (tmp_path / long_name).write_text("x" * 100)
    (tmp_path / ("d" * 200)).mkdir()
    (tmp_path / ("d" * 200) / long_name).write_text("y")
    args = ["context", str(tmp_path), "--failure-threshold", "none"]
    assert run([*args, "--format", "json"]) == 0
    sent = json.loads(capsys.readouterr().out)["sent"]
    page = ARTEFACTS / "context-long-names.html"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    assert run([*args, "--format", "html", "-o", str(page)]) == 0
    dom = check_clean(render(page, "context-long-names"))
    assert f"files: {sent['files']}" in dom.by_id("field-sent").text()
    assert int(dom.find_all("html")[0].attrs["data-scroll-width"]) <= WIDTH
    assert long_name in dom.text()


def test_diff_page_shows_the_json_figures_and_hostile_names_as_text(
    engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`diff --format html` between the hostile image and the reclaim fixture of explore:
    every figure in the DOM is the JSON document's; names from the images stay text."""
    a = build_image("html-hostile", FIXTURES / "hostile")
    b = build_image("ui-reclaim", Path(__file__).parents[1] / "ui" / "fixtures" / "reclaim")
    assert run(["diff", a, b, "--format", "json", "--top", "0", "--depth", "3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page = ARTEFACTS / "diff-hostile-reclaim.html"
    assert (
        run(["diff", a, b, "--format", "html", "--top", "0", "--depth", "3", "-o", str(page)]) == 0
    )
    dom = check_clean(render(page, "diff-hostile-reclaim"))
    assert len(dom.find_all("script")) == 3  # errors, the data block, tables: nothing else
    assert dom.find_all("img") == [] and dom.find_all("b") == [] and dom.find_all("i") == []
    assert json.loads(dom.by_id("report-data").text()) == doc
    rows = {r.attrs["id"]: r.find_all("td") for r in dom.by_id("sides-table").find_all("tr")
            if "id" in r.attrs}  # fmt: skip
    for key in ("size_bytes", "wasted_bytes", "reclaimable_certain_bytes", "achievable_bytes"):
        cells = rows[f"side-{key}"]
        assert [int(c.attrs["data-bytes"]) for c in cells] == [
            doc["a"][key], doc["b"][key], doc["b"][key] - doc["a"][key]
        ]  # fmt: skip
    assert int(rows["side-layers"][1].attrs["data-count"]) == doc["b"]["layers"]
    assert int(rows["side-size_bytes"][2].attrs["data-bytes"]) == doc["delta_bytes"]
    categories = dom.by_id("categories-table").find_all("tbody")[0].find_all("tr")
    assert [
        (r.attrs["data-category"], *(int(c.attrs["data-bytes"]) for c in r.find_all("td")[1:]))
        for r in categories
    ] == [(c["category"], c["a_bytes"], c["b_bytes"], c["delta_bytes"]) for c in doc["categories"]]
    layers = dom.by_id("layers-table").find_all("tbody")[0].find_all("tr")
    assert [(r.attrs["data-status"], r.find_all("td")[4].text()) for r in layers] == [
        (x["status"], x["instruction"] or "(no instruction recorded)") for x in doc["layers"]
    ]
    statuses = {x["status"] for x in doc["layers"]}
    assert {"shared", "removed", "added"} <= statuses  # busybox shared, the rest differ
    files = dom.by_id("files-summary")
    assert int(files.attrs["data-added"]) == doc["files"]["added"]
    assert int(files.attrs["data-removed"]) == doc["files"]["removed"]
    directories = dom.by_id("directories-table").find_all("tbody")[0].find_all("tr")
    assert [
        (r.find_all("td")[0].text(), int(r.find_all("td")[1].attrs["data-bytes"]))
        for r in directories
    ] == [(d["directory"], d["delta_bytes"]) for d in doc["directories"]]
    assert doc["packages"] is None
    assert "Neither image has a package database" in dom.by_id("packages").text()
    # A's hostile directory and instruction (its removed layers), as text.
    assert "/data/</script><script>alert(3)<" in dom.by_id("directories-table").text()
    assert HOSTILE_INSTRUCTION in dom.by_id("layers-table").text()
