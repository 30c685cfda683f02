"""TD123's fix names the members as the archive spells them (`sdk/bin/tool` or
`./sdk/bin/tool`): read from the archive when the build copied it from the context, both
spellings in turn when it cannot be read, no fix when tar reads a stream."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from tests.support.engine import image_exists
from trimdock.dockerfile import parse
from trimdock.fix.apply import fix_text
from trimdock.fix.archive import member_reader
from trimdock.fix.providers.extract import spelled
from trimdock.fix.verify import verify
from trimdock.rules.engine import lint

COPIED = """\
FROM busybox:latest
COPY vendor/sdk.tar /tmp/
RUN mkdir -p /opt/tool \\
    && tar -xf /tmp/sdk.tar -C /tmp \\
    && cp /tmp/sdk/bin/tool /opt/tool/ \\
    && rm -rf /tmp/sdk
USER 65534:65534
"""

PLAIN = frozenset({"sdk", "sdk/bin", "sdk/bin/tool", "sdk/docs", "sdk/docs/manual.txt"})
DOTTED = frozenset({".", *(f"./{n}" for n in PLAIN)})


def _td123(text: str) -> list[str]:
    return [f.message for f in lint(parse(text)) if f.rule_id == "TD123"]


@pytest.mark.parametrize(
    ("wanted", "names", "expected"),
    [
        (("sdk/bin/tool",), PLAIN, ("sdk/bin/tool",)),
        (("sdk/bin/tool",), DOTTED, ("./sdk/bin/tool",)),
        (("sdk/bin",), PLAIN, ("sdk/bin",)),  # a folder: its entries follow
        (("sdk/bin",), frozenset({"./sdk/bin/tool"}), ("./sdk/bin",)),  # no folder entry
        (("sdk/bin/tool", "sdk/docs"), DOTTED, ("./sdk/bin/tool", "./sdk/docs")),
        (("sdk/bin/tol",), PLAIN, None),  # not in the archive: the build would fail
        (("sdk/bin/too",), PLAIN, None),  # a prefix of a name is not a member
    ],
)
def test_spelled(
    wanted: tuple[str, ...], names: frozenset[str], expected: tuple[str, ...] | None
) -> None:
    assert spelled(wanted, names) == expected


@pytest.mark.parametrize(("names", "member"), [(PLAIN, "sdk/bin/tool"), (DOTTED, "./sdk/bin/tool")])
def test_the_archive_s_own_spelling_when_it_is_read(names: frozenset[str], member: str) -> None:
    asked: list[str] = []

    def reader(relative: str) -> frozenset[str] | None:
        asked.append(relative)
        return names

    outcome = fix_text(COPIED, unsafe=True, members=reader)
    assert "vendor/sdk.tar" in asked
    assert f"    && tar -xf /tmp/sdk.tar -C /tmp {member} \\\n" in outcome.text
    assert not _td123(outcome.text)
    assert not fix_text(outcome.text, unsafe=True, members=reader).changed


def test_a_member_the_archive_lacks_gets_no_fix() -> None:
    outcome = fix_text(COPIED, unsafe=True, members=lambda _: frozenset({"other/x"}))
    assert "TD123" not in {a.rule_id for a in outcome.applied}


@pytest.mark.parametrize(
    "text",
    [
        COPIED,  # no context given
        COPIED.replace("COPY vendor/sdk.tar /tmp/", "COPY --from=dl /sdk.tar /tmp/"),
        # a RUN between may have replaced the copied archive
        COPIED.replace("RUN mkdir", "RUN gzip -t /tmp/sdk.tar || true\nRUN mkdir"),
    ],
)
def test_both_spellings_when_the_archive_cannot_be_read(text: str) -> None:
    context = {"vendor/sdk.tar": PLAIN} if "--from" in text or "gzip" in text else {}
    outcome = fix_text(text, unsafe=True, members=context.get)
    assert (
        "{ tar -xf /tmp/sdk.tar -C /tmp sdk/bin/tool 2>/dev/null"
        " || tar -xf /tmp/sdk.tar -C /tmp ./sdk/bin/tool; }" in outcome.text
    )
    assert not _td123(outcome.text)


@pytest.mark.parametrize(
    "run",
    [
        # a stream: a second tar would read nothing
        "RUN wget -qO- https://x/sdk.tar | tar -x -C /tmp && cp /tmp/sdk/bin/t /bin/"
        " && rm -rf /tmp/sdk",
        "RUN tar -xf - -C /tmp < /sdk.tar && cp /tmp/sdk/bin/t /bin/ && rm -rf /tmp/sdk",
        # the kept path is not a literal
        "RUN tar -xf /sdk.tar -C /tmp && cp /tmp/sdk/bin/* /bin/ && rm -rf /tmp/sdk",
    ],
)
def test_no_fix_when_no_spelling_can_be_chosen(run: str) -> None:
    text = f"FROM busybox:latest\n{run}\n"
    assert _td123(text), "the input must have the finding"
    outcome = fix_text(text, unsafe=True)
    assert "TD123" not in {a.rule_id for a in outcome.applied}, outcome.text


def write_archive(path: Path, members: dict[str, bytes], *, dotted: bool) -> None:
    """A tar as `tar -C dir -cf x.tar .` (dotted: `./` names and a `./` entry) or
    `tar -C dir -cf x.tar sdk` (plain) writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = "./" if dotted else ""
    folders = sorted({p.rsplit("/", i)[0] for p in members for i in range(1, p.count("/") + 1)})
    with tarfile.open(path, "w") as archive:
        if dotted:
            info = tarfile.TarInfo(".")
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            archive.addfile(info)
        for folder in folders:
            info = tarfile.TarInfo(prefix + folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            archive.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(prefix + name)
            info.size, info.mode = len(data), 0o755
            archive.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("dotted", [False, True])
def test_reader_returns_the_names_as_stored(tmp_path: Path, dotted: bool) -> None:
    write_archive(tmp_path / "vendor" / "sdk.tar", {"sdk/bin/tool": b"x"}, dotted=dotted)
    (tmp_path / "notes.tar").write_text("not a tar")
    read = member_reader(tmp_path)
    names = read("vendor/sdk.tar")
    assert names is not None
    assert ("./sdk/bin/tool" in names) is dotted and ("sdk/bin/tool" in names) is not dotted
    assert read("notes.tar") is None and read("missing.tar") is None
    assert read("../outside.tar") is None
    assert member_reader(None)("vendor/sdk.tar") is None


# The payload the build throws away: bytes that do not compress, so extracting them costs.
DOCS = bytes(range(256)) * 8192  # 2 MiB


def _tag(name: str, *texts: str) -> str:
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:12]
    return f"trimdock-test/fix-{name}:{digest}"


@pytest.mark.usefixtures("engine")
@pytest.mark.parametrize("dotted", [False, True], ids=["plain", "dotted"])
def test_verified_for_both_spellings(tmp_path: Path, dotted: bool) -> None:
    members = {"sdk/bin/tool": b"#!/bin/sh\necho tool\n", "sdk/docs/manual.bin": DOCS}
    write_archive(tmp_path / "vendor" / "sdk.tar", members, dotted=dotted)
    outcome = fix_text(COPIED, "Dockerfile", unsafe=True, members=member_reader(tmp_path))
    member = "./sdk/bin/tool" if dotted else "sdk/bin/tool"
    assert [a.rule_id for a in outcome.applied] == ["TD123"]
    assert f"-C /tmp {member} \\\n" in outcome.text
    tag = _tag(f"td123-{'dotted' if dotted else 'plain'}", outcome.original, outcome.text)
    result = verify(tmp_path, outcome, tag=tag)
    assert result.failure is None and result.comparison is not None and result.after is not None
    assert result.accepted, result.comparison.unexpected
    before, after = result.before.filesystem, result.after.filesystem
    # exactly the same paths: the named member kept, nothing else extracted survives
    assert result.comparison.lost == () and result.comparison.added == ()
    assert (
        after.paths["/opt/tool/tool"]
        == before.paths["/opt/tool/tool"]
        == len(members["sdk/bin/tool"])
    )
    assert not any(p.startswith("/tmp/sdk/") for p in after.paths)
    # the tree was removed in the same RUN, so it never reached a layer: no size to win
    assert after.size == before.size
    assert not image_exists(f"{tag}-before") and not image_exists(f"{tag}-after")


# The archive is made by the build, so it cannot be read: both spellings are tried in turn.
MADE = """FROM busybox:latest
RUN mkdir -p /src/sdk/bin /src/sdk/docs /opt/tool && echo tool > /src/sdk/bin/tool \
    && head -c 2097152 /dev/zero > /src/sdk/docs/manual.bin && tar -C /src -cf /sdk.tar {what}
RUN tar -xf /sdk.tar -C /tmp && cp /tmp/sdk/bin/tool /opt/tool/ && rm -rf /tmp/sdk
USER 65534:65534
"""


@pytest.mark.usefixtures("engine")
@pytest.mark.parametrize("what", ["sdk", "."], ids=["plain", "dotted"])
def test_verified_when_the_archive_cannot_be_read(tmp_path: Path, what: str) -> None:
    text = MADE.format(what=what)
    outcome = fix_text(text, "Dockerfile", unsafe=True, members=member_reader(tmp_path))
    assert [a.rule_id for a in outcome.applied] == ["TD123"]
    assert "2>/dev/null || tar -xf /sdk.tar -C /tmp ./sdk/bin/tool; }" in outcome.text
    result = verify(tmp_path, outcome, tag=_tag("td123-made", text, outcome.text))
    assert result.failure is None and result.comparison is not None and result.after is not None
    assert result.accepted, result.comparison.unexpected
    assert result.comparison.lost == () and result.comparison.added == ()
    assert "/opt/tool/tool" in result.after.filesystem.paths
