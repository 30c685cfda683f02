"""Ruby gems: `specifications/NAME-VERSION.gemspec`, the Ruby source RubyGems writes for each
installed gem. Only the literal assignments RubyGems generates are read (`s.name = "x"`,
`s.version = "1.2.3"`, `s.licenses = ["MIT"]`); the file is never evaluated.
"""

from __future__ import annotations

import re

from trimdock.security.catalog.records import Record

_STRING = r"""["']([^"']*)["']"""
_NAME = re.compile(r"^\s*\w+\.name\s*=\s*" + _STRING + r"(?:\.freeze)?", re.MULTILINE)
# `s.version = "1.2.3"` or `Gem::Version.new("1.2.3")`
_VERSION = re.compile(r"^\s*\w+\.version\s*=\s*(?:Gem::Version\.new\(\s*)?" + _STRING, re.MULTILINE)
_LICENCES = re.compile(r"^\s*\w+\.licen[sc]es?\s*=\s*\[?([^\n\]]*)\]?", re.MULTILINE)


def parse_gemspec(data: bytes) -> list[Record]:
    text = data.decode("utf-8", "replace")
    name = _NAME.search(text)
    version = _VERSION.search(text)
    if name is None or version is None or not name.group(1) or not version.group(1):
        return []
    licences = _LICENCES.search(text)
    licence = ""
    if licences is not None:
        licence = " AND ".join(re.findall(_STRING, licences.group(1)))
    return [Record(name=name.group(1), version=version.group(1), licence=licence)]
