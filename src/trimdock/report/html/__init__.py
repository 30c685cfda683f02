"""Self-contained HTML reports: one file, CSS, JavaScript and data inline, nothing fetched.

Safety: every string that came from an input (file names, instructions, Dockerfile lines) is
escaped by Jinja's autoescape when it reaches the markup, and the data block the scripts read
is JSON with `<`, `>`, `&` and the JavaScript line separators written as `\\uXXXX`, so no
string can close the `<script>` element that carries it. The page's scripts only ever put
such strings into the page as text (`textContent`), never as markup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

import jinja2
from markupsafe import Markup

from trimdock import __version__
from trimdock.report.escaping import safe_terminal
from trimdock.report.formats.common import safe_text
from trimdock.report.units import human_bytes

# Characters that must not appear raw inside a <script> element's JSON (or in a JS string):
# `<` and `>` could form `</script>` or `<!--`, `&` keeps the text inert in any context, and
# U+2028/U+2029 end a line in older JavaScript parsers.
_JSON_UNSAFE = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def json_for_script(data: Any) -> Markup:
    """`data` as JSON that is safe inside `<script type="application/json">`."""
    # ensure_ascii: lone surrogates (undecodable bytes of a file name) become \\udcXX escapes,
    # which JSON.parse accepts, instead of making the page unwritable as UTF-8.
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), default=str)
    return Markup(text.translate(_JSON_UNSAFE))


def _finalize(value: Any) -> Any:
    # Every printed string: lone surrogates replaced so the page always encodes as UTF-8.
    if isinstance(value, str) and not isinstance(value, Markup):
        return safe_text(value)
    return value


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("trimdock.report.html", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters["json_script"] = json_for_script
    # Control characters (a newline in a file name) shown as `\xNN`, as on the terminal.
    env.filters["printable"] = safe_terminal
    env.filters["bytes"] = human_bytes
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.filters["layer_colour"] = layer_colour
    env.filters["columns"] = _columns
    env.filters["numeric_column"] = _numeric_column
    env.globals["version"] = __version__
    env.globals["asset"] = asset
    return env


def layer_colour(layer: int) -> str:
    """A layer's colour: golden-angle hues, so neighbours differ (the same formula as the
    treemap's script)."""
    if layer < 0:
        return "hsl(0, 0%, 62%)"
    return f"hsl({round((210 + layer * 137.508) * 10) % 3600 / 10:g}, 62%, 58%)"


@cache
def asset(name: str) -> Markup:
    """A stylesheet or script of the package, inlined verbatim (our own code, not input)."""
    text = (files("trimdock.report.html") / "templates" / name).read_text(encoding="utf-8")
    # Inlined in a <style> or <script> element: it must not end that element early.
    assert "</" not in text, name
    return Markup(text)


def render_page(template: str, **context: Any) -> str:
    """The page `template` rendered with `context`, as text that always encodes as UTF-8."""
    return safe_text(environment().get_template(template).render(**context))


def _columns(rows: list[Any]) -> list[str]:
    """Every key of a list of objects, in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        if isinstance(row, dict):
            seen.update(dict.fromkeys(row))
    return list(seen)


def _numeric_column(rows: list[Any], column: str) -> bool:
    values = [row.get(column) for row in rows if isinstance(row, dict)]
    return any(isinstance(v, int | float) and not isinstance(v, bool) for v in values) and all(
        v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values
    )


# Rows of one table in a page laid out from JSON: a listing of a whole filesystem (`layers --at`)
# would otherwise make a page no browser opens comfortably.
MAX_ROWS = 5000


def render_document(document: dict[str, Any], sources: Mapping[str, str] | None = None) -> str:
    """Any JSON report (`{"schema": "trimdock/NAME/1", ...}`) as a page of tables; its
    `findings`, if any, with their source lines from `sources` (path -> text)."""
    from trimdock.report.formats.html import json_finding_views

    schema = str(document.get("schema", ""))
    title = schema.split("/")[1] if schema.count("/") == 2 else "report"
    raw = document.get("findings")
    findings = None
    if isinstance(raw, list) and all(isinstance(f, dict) and "rule" in f for f in raw):
        findings = json_finding_views(raw, sources or {})
    return render_page(
        "document.html.j2",
        doc=document,
        title=title,
        schema=schema,
        data=None,
        findings=findings,
        max_rows=MAX_ROWS,
    )


def finding_sources(paths: Iterable[str]) -> dict[str, str]:
    """The text of each readable Dockerfile among `paths`, for showing findings' lines."""
    from trimdock.dockerfile.source import read_dockerfile
    from trimdock.errors import DockerfileError

    sources: dict[str, str] = {}
    for path in dict.fromkeys(paths):
        try:
            sources[path] = read_dockerfile(path)[1]
        except DockerfileError:
            continue  # the report still shows the finding, without its lines
    return sources
