"""Hostile tar bytes crafted header by header, and the image archives that carry them.

`tarfile` refuses to write most of these (negative sizes, bad PAX values), so headers are built
by hand with a correct checksum: the parser must reject them for what they say, not for a
checksum error.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

from .craft import Layout, config_json, layer_tar, sha

BLOCK = 512


def header(
    name: bytes,
    *,
    size: int | bytes = 0,
    flag: bytes = b"0",
    link: bytes = b"",
    mtime: bytes = b"00000000000\0",
) -> bytes:
    """One ustar header block; `size` as an int (octal) or the raw 12-byte field."""
    block = bytearray(BLOCK)
    block[0 : len(name)] = name
    block[100:108] = b"0000644\0"
    block[108:116] = b"0000000\0"
    block[116:124] = b"0000000\0"
    block[124:136] = size if isinstance(size, bytes) else b"%011o\0" % size
    block[136:148] = mtime
    block[156:157] = flag
    block[157 : 157 + len(link)] = link
    block[257:265] = b"ustar\x0000"
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def base256(value: int) -> bytes:
    """A GNU base-256 number field (two's complement, high bit of the first byte set)."""
    if value < 0:
        return value.to_bytes(12, "big", signed=True)
    return (value | (0x80 << 88)).to_bytes(12, "big")


def pax_record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode()
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode() + body


def pax(records: dict[str, str], *, raw: bytes | None = None) -> bytes:
    """A PAX extended header (flag `x`) with its data blocks."""
    data = raw if raw is not None else b"".join(pax_record(k, v) for k, v in records.items())
    return header(b"PaxHeader", size=len(data), flag=b"x") + padded(data)


def file_entry(name: bytes, data: bytes, **kw: bytes) -> bytes:
    return header(name, size=len(data), **kw) + padded(data)


def end() -> bytes:
    return bytes(2 * BLOCK)


def layer(*members: tuple[str, bytes | str | None, str]) -> bytes:
    """A well-formed GNU-format layer tar from (name, content, kind) like `craft.layer_tar`."""
    return layer_tar(members, tarfile.GNU_FORMAT)


def docker_archive(
    path: Path,
    layers: list[bytes],
    *,
    created_by: list[str] | None = None,
    compress: bool = False,
) -> Path:
    """A legacy `docker save` archive holding `layers` (raw tar bytes, uncompressed)."""
    config = json.loads(config_json([sha(t) for t in layers]))
    if created_by is not None:
        config["history"] = [{"created_by": text} for text in created_by]
    config_bytes = json.dumps(config).encode()
    members: dict[str, bytes] = {}
    names = []
    for index, data in enumerate(layers):
        names.append(f"{index:064x}/layer.tar")
        members[names[-1]] = data
    members[sha(config_bytes)[7:] + ".json"] = config_bytes
    members["manifest.json"] = json.dumps(
        [{"Config": sha(config_bytes)[7:] + ".json", "RepoTags": ["x:1"], "Layers": names}]
    ).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    path.write_bytes(gzip.compress(data, compresslevel=1) if compress else data)
    return path


def oci_layout(root: Path, layers: list[bytes], *, compress: bool) -> Path:
    layout = Layout(root)
    layout.index([layout.image(layers, compress=compress)])
    return root
