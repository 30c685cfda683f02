"""Reading the member names of an archive in the build context (the I/O behind TD123's fix,
which picks the archive's own spelling of a member: `sdk/bin/tool` or `./sdk/bin/tool`)."""

from __future__ import annotations

import tarfile
from functools import lru_cache
from pathlib import Path

from trimdock.fix.providers.base import MemberReader, no_context


def member_reader(context: Path | None) -> MemberReader:
    """A reader of tar member names under `context` (none without a context)."""
    if context is None:
        return no_context
    root = context.resolve()

    # Fix rounds ask again for the same archive: read its headers once.
    @lru_cache(maxsize=8)
    def read(relative: str) -> frozenset[str] | None:
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        try:
            with tarfile.open(path) as archive:  # plain, gzip, bzip2 or xz
                return frozenset(archive.getnames())
        except (tarfile.TarError, OSError, EOFError, ValueError):
            return None  # not a tar Python reads (zstd, zip, damaged): not inspected

    return read
