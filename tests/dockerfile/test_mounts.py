"""`--mount` values read as BuildKit reads them (one CSV record, aliases, bind by default)."""

from __future__ import annotations

import pytest

from trimdock.dockerfile.mounts import Mount, parse_mount

CASES = [
    ("target=/t", Mount("bind", None, "/t", None)),
    ("type=bind,source=tools,target=/t", Mount("bind", "tools", "/t", None)),
    ("type=bind,src=tools,dst=/t", Mount("bind", "tools", "/t", None)),
    ("type=cache,target=/root/.cache/pip", Mount("cache", None, "/root/.cache/pip", None)),
    ("type=bind,from=build,source=/out,target=/o", Mount("bind", "/out", "/o", "build")),
    ('type=bind,"source=a,b",target=/t', Mount("bind", "a,b", "/t", None)),
    ("Type=Secret,id=tok,destination=/run/s", Mount("secret", None, "/run/s", None)),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_mount_fields(value: str, expected: Mount) -> None:
    assert parse_mount(value) == expected


def test_only_plain_bind_mounts_read_the_context() -> None:
    assert parse_mount("target=/t").reads_context
    assert not parse_mount("type=bind,from=build,target=/t").reads_context
    assert not parse_mount("type=cache,target=/t").reads_context
