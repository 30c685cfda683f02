"""Serialising an element tree as a UTF-8 XML document with safe attribute and text values."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from trimdock.report.formats.common import safe_xml

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def element(tag: str, attrs: dict[str, str | int | None], text: str | None = None) -> ET.Element:
    """An element whose attributes (None ones dropped) and text are XML-safe strings."""
    node = ET.Element(tag, {k: safe_xml(str(v)) for k, v in attrs.items() if v is not None})
    if text is not None:
        node.text = safe_xml(text)
    return node


def document(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return DECLARATION + ET.tostring(root, encoding="unicode") + "\n"
