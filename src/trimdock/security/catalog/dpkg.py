"""dpkg: `var/lib/dpkg/status`, and the per-package files in `status.d/` (distroless)."""

from __future__ import annotations

from trimdock.security.catalog.records import Record, stanzas


def parse_dpkg_status(data: bytes) -> list[Record]:
    """Installed packages of a dpkg status file (stanzas whose Status ends in `installed`).

    The source package comes from `Source:` (`name` or `name (version)`); without it the source
    is the binary package itself, at the binary's version, as dpkg defines it.
    """
    records: list[Record] = []
    for stanza in stanzas(data.decode("utf-8", "replace")):
        name = stanza.get("Package", "")
        version = stanza.get("Version", "")
        status = stanza.get("Status", "install ok installed")
        if not name or not version or not status.endswith(" installed"):
            continue
        source_name, source_version = name, version
        source = stanza.get("Source", "")
        if source:
            source_name, _, rest = source.partition(" ")
            rest = rest.strip()
            if rest.startswith("(") and rest.endswith(")"):
                source_version = rest[1:-1].strip()
        records.append(
            Record(
                name=name,
                version=version,
                source_name=source_name,
                source_version=source_version,
                arch=stanza.get("Architecture", ""),
            )
        )
    return records
