"""Turning tar headers into `LayerEntry` values: path normalisation and unsafe-path detection.

Nothing is rejected here: a layer may legitimately be analysed even when it carries hostile
names. Paths are normalised the way the engine's layer applier cleans them (leading `/` and
`./` dropped, `a/../b` resolved), except that a `..` that would climb above the root is kept,
so `is_unsafe_path` can tell the consumer (e.g. an exporter) to refuse it.

`mode` keeps the permission bits only (with setuid/setgid/sticky): some tar writers also store
the file-type bits in the mode field, others do not, and a chmod check must not see that
difference as a change.
"""

from __future__ import annotations

import tarfile

from trimdock.image.model import EntryType, LayerEntry

_TYPES: dict[bytes, EntryType] = {
    tarfile.REGTYPE: EntryType.FILE,
    tarfile.AREGTYPE: EntryType.FILE,
    tarfile.CONTTYPE: EntryType.FILE,
    tarfile.GNUTYPE_SPARSE: EntryType.FILE,
    tarfile.DIRTYPE: EntryType.DIR,
    tarfile.SYMTYPE: EntryType.SYMLINK,
    tarfile.LNKTYPE: EntryType.HARDLINK,
    tarfile.CHRTYPE: EntryType.CHAR,
    tarfile.BLKTYPE: EntryType.BLOCK,
    tarfile.FIFOTYPE: EntryType.FIFO,
}


def normalise_path(name: str) -> str:
    """The image-root-relative form of a tar member name (see module docstring)."""
    if "/." not in name and not name.startswith(("/", ".")) and "//" not in name:
        # Fast path: the common, already clean name (possibly with a trailing slash).
        return name.rstrip("/")
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            else:
                parts.append("..")
            continue
        parts.append(part)
    return "/".join(parts)


def is_unsafe_path(path: str) -> bool:
    """Whether a normalised path climbs above the image root (`..` survived normalisation)."""
    return path == ".." or path.startswith("../")


def unsafe_reason(entry: LayerEntry) -> str | None:
    """Why extracting this entry could write outside its target directory, or None.

    Symlink targets are not judged here: an absolute or `..` symlink is normal inside an image;
    following it during extraction is what an exporter must refuse.
    """
    if is_unsafe_path(entry.path):
        return f"path {entry.path!r} climbs above the image root"
    if entry.type is EntryType.HARDLINK and (is_unsafe_path(entry.link) or not entry.link):
        return f"hard link {entry.path!r} points outside the image root ({entry.link!r})"
    return None


def entry_from_tarinfo(info: tarfile.TarInfo) -> LayerEntry | None:
    """The `LayerEntry` for a tar header, or None for the root directory itself."""
    path = normalise_path(info.name)
    if not path:
        return None
    kind = _TYPES.get(info.type, EntryType.FILE)
    if kind is EntryType.HARDLINK:
        link = normalise_path(info.linkname)
    elif kind is EntryType.SYMLINK:
        link = info.linkname
    else:
        link = ""
    return LayerEntry(
        path=path,
        type=kind,
        size=info.size if kind is EntryType.FILE else 0,
        mode=info.mode & 0o7777,
        uid=info.uid,
        gid=info.gid,
        mtime=int(info.mtime),
        link=link,
        devmajor=info.devmajor,
        devminor=info.devminor,
    )
