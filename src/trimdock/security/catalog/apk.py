"""apk: `lib/apk/db/installed`, one `X:value` line per field, packages separated by blank lines."""

from __future__ import annotations

from trimdock.security.catalog.records import Record


def parse_apk_installed(data: bytes) -> list[Record]:
    """Packages of an apk installed database; `o:` (origin) is the source package."""
    records: list[Record] = []
    fields: dict[str, str] = {}

    def flush() -> None:
        if fields.get("P") and fields.get("V"):
            records.append(
                Record(
                    name=fields["P"],
                    version=fields["V"],
                    licence=fields.get("L", ""),
                    source_name=fields.get("o", fields["P"]),
                    source_version=fields["V"],
                    arch=fields.get("A", ""),
                )
            )
        fields.clear()

    for line in data.decode("utf-8", "replace").splitlines():
        if not line.strip():
            flush()
            continue
        key, sep, value = line.partition(":")
        if sep and len(key) == 1 and key not in fields:
            fields[key] = value.strip()
    flush()
    return records
