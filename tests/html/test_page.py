"""The HTML pages without a browser: escaping, the safe data block, nothing fetched."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.html.hostile import HOSTILE_INSTRUCTION, HOSTILE_NAMES
from tests.layers.builders import content, entry, image, wh
from trimdock.dockerfile import parse
from trimdock.dockerfile.source import read_dockerfile
from trimdock.layers.analysis import analyze_layers
from trimdock.layers.html import MAX_LISTED, layers_page_data, render_layers_html
from trimdock.layers.overlay import Overlay
from trimdock.report.formats import FindingFormat, render_findings
from trimdock.report.html import MAX_ROWS, json_for_script, render_document
from trimdock.rules.engine import LintSettings, lint
from trimdock.rules.registry import RULE_INFOS


class Page(HTMLParser):
    """Elements, text and script bodies of a page, as a browser's tokenizer sees them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def hostile_page() -> str:
    layers = [
        [content(f"data/{name}", b"x" * (i + 1)) for i, name in enumerate(HOSTILE_NAMES)],
        [content("data/keep", b"kept"), entry(wh(f"data/{HOSTILE_NAMES[0]}"))],
    ]
    img = image(layers, ["COPY data /data", HOSTILE_INSTRUCTION])
    overlay = Overlay()
    analysis = analyze_layers((layer.content.entries() for layer in img.layers), overlay=overlay)
    return render_layers_html(img, analysis, None, overlay)


def test_hostile_names_stay_text_and_in_the_data() -> None:
    page_text = hostile_page()
    page = Page(page_text)
    tags = [tag for tag, _ in page.tags]
    # Only the page's own elements: no injected image, no extra script.
    assert "img" not in tags
    assert tags.count("script") == 4  # error marker, data, tables, treemap
    text = "".join(page.text)
    assert "<b>bold</b></script><script>alert(4)</script>" in text
    data_scripts = [s for s in page.scripts if s.startswith('{"schema"')]
    assert len(data_scripts) == 1
    data = json.loads(data_scripts[0])
    tree = data["tree"]
    full: list[str] = []
    for name, parent in zip(tree["names"], tree["parents"], strict=True):
        full.append("" if parent < 0 else f"{full[parent]}/{name}")
    assert {f"/data/{name}" for name in HOSTILE_NAMES[1:]} <= set(full)
    assert data["report"]["layers"][1]["instruction"] == "RUN " + HOSTILE_INSTRUCTION
    # The wasted path is shown in full, as text, in the waste table.
    assert data["report"]["wasted_paths"][0]["path"] == f"/data/{HOSTILE_NAMES[0]}"
    assert f"/data/{HOSTILE_NAMES[0]}" in text


def test_nothing_is_fetched() -> None:
    page_text = hostile_page()
    page = Page(page_text)
    for _, attrs in page.tags:
        assert "src" not in attrs
        assert str(attrs.get("href", "#")).startswith("#")
    assert not re.search(r"(?i)https?:|url\(|@import|//[a-z0-9.-]+\.[a-z]{2,}/", page_text)


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_json_block_cannot_end_its_script(value: str) -> None:
    block = str(json_for_script({"v": value, "k": [value]}))
    assert "</" not in block and "<!--" not in block and "\u2028" not in block
    assert json.loads(block) == {"v": value, "k": [value]}


def test_any_json_report_becomes_escaped_tables() -> None:
    document = {
        "schema": "trimdock/context/1",
        "directory": "<script>alert(5)</script>",
        "files": [{"path": "<i>x</i>", "bytes": 12}, {"path": "b", "bytes": 3}],
        "nested": {"flag": True, "none": None, "list": ["<u>"]},
    }
    page = Page(render_document(document))
    tags = [tag for tag, _ in page.tags]
    assert "i" not in tags and "u" not in tags
    assert tags.count("script") == 2
    text = "".join(page.text)
    assert "<script>alert(5)</script>" in text and "<i>x</i>" in text
    assert "table" in tags


def test_lint_page_shows_hostile_source_lines_as_text(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    line = "RUN apt-get install -y curl && echo '</pre><script>alert(6)</script>'"
    dockerfile.write_text(f"FROM debian:bookworm-slim\n{line}\n")
    label, text = read_dockerfile(str(dockerfile))
    findings = lint(parse(text, label), LintSettings())
    assert findings
    page_text = render_findings(
        findings,
        FindingFormat.HTML,
        rules=RULE_INFOS,
        sources={label: text},
        tool_version="test",
        files=[label],
    )
    page = Page(page_text)
    tags = [tag for tag, _ in page.tags]
    assert tags.count("script") == 2
    assert "mark" in tags and "pre" in tags
    shown = "".join(page.text)
    assert "echo '</pre><script>alert(6)</script>'" in shown
    assert f'data-count="{len(findings)}"' in page_text


def test_long_listings_are_cut_with_a_note() -> None:
    rows = [{"path": f"/f{i}", "bytes": i} for i in range(MAX_ROWS + 7)]
    page = Page(render_document({"schema": "trimdock/layers-at/1", "entries": rows}))
    assert [tag for tag, _ in page.tags].count("tr") == MAX_ROWS + 1  # with the header
    assert f"The first {MAX_ROWS} of {MAX_ROWS + 7} rows" in "".join(page.text)


def test_path_lists_are_bounded_in_the_page() -> None:
    per_file = [content(f"d{i:05d}/f", b"w" * (i + 1)) for i in range(MAX_LISTED + 50)]
    deletes = [entry(wh(f"d{i:05d}")) for i in range(MAX_LISTED + 50)]
    img = image([per_file, deletes], ["COPY d /", "rm -rf /d*"])
    overlay = Overlay()
    analysis = analyze_layers(
        (layer.content.entries() for layer in img.layers), top=0, overlay=overlay
    )
    data = layers_page_data(img, analysis, None, overlay)
    report = data["report"]
    assert report["wasted_paths_total"] == MAX_LISTED + 50
    assert len(report["wasted_paths"]) == MAX_LISTED
    assert report["wasted_paths"][0]["bytes"] == MAX_LISTED + 50  # the largest kept
    page = render_layers_html(img, analysis, None, overlay)
    assert f"The largest {MAX_LISTED} of {MAX_LISTED + 50}" in page


def test_reclaimable_per_node_adds_up_at_every_node_including_rest_nodes() -> None:
    """Each kept node holds the classified bytes at or below it; files the tree folded into
    a per-layer "rest" node count there, so the root holds the report's total."""
    from trimdock.layers.fstree import REST
    from trimdock.layers.reclaim.classify import achievable
    from trimdock.layers.reclaim.collect import reclaim_image

    first = [content(f"tmp/t{i:02d}", b"t" * (100 + i)) for i in range(20)]
    first += [content("app/main", b"m" * 5000), content("var/log/a.log", b"l" * 300)]
    second = [content("tmp/late", b"x" * 77), content("app/.git/HEAD", b"h" * 40)]
    img = image([first, second], ["COPY . /", "RUN build"])
    overlay = Overlay()
    analysis = analyze_layers((layer.content.entries() for layer in img.layers), overlay=overlay)
    report = reclaim_image(img, overlay)
    figures = achievable(analysis.size, analysis.wasted, report)
    data = layers_page_data(img, analysis, None, overlay, budget=8, reclaim=(report, figures))
    tree, per_node = data["tree"], data["reclaimable"]
    assert REST in tree["kinds"]  # the budget folded some files
    assert per_node[0] == report.total == data["report"]["reclaim"]["reclaimable_bytes"]
    expected = sum(100 + i for i in range(20)) + 77 + 300 + 40
    assert report.total == expected
    # Every node: its own share plus its children's, never more than its size.
    for index in range(len(tree["parents"])):
        assert per_node[index] <= tree["sizes"][index]
        kids = [i for i, p in enumerate(tree["parents"]) if p == index]
        if kids:
            assert per_node[index] == sum(per_node[i] for i in kids)
    names = dict(zip(tree["names"], per_node, strict=False))
    assert names["app"] == 40  # its .git, not its program
