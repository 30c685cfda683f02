"""Build the seed corpora in fuzz/corpus/<target>/ from the tests' fixtures.

    python -m fuzz.seed            # rewrite fuzz/corpus (small: committed, < 1 MiB in total)

Sources: Dockerfiles under examples/ and tests/, a sample of /work/shared/data/dockerfiles (when
present: read-only, copied), generated Dockerfiles (tests/dockerfile/generate.py), layer tars
and image configs crafted with tests/image/craft.py, and the .dockerignore tables of
tests/context. Seeds are named by content hash, so rerunning is idempotent.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import sys
import tarfile
from collections.abc import Iterable
from pathlib import Path

from fuzz.harness import CORPUS_DIR, SEPARATOR
from fuzz.targets import NAMES, load

REPO = Path(__file__).resolve().parent.parent
SHARED_DOCKERFILES = Path("/work/shared/data/dockerfiles")
# Seeds from the shared collection: the smallest ones keep the committed corpus well under 1 MiB.
SHARED_SAMPLE = 30
SHARED_MAX_BYTES = 6 * 1024
_TRAILER = bytes(1024)


def _trim(tar: bytes) -> bytes:
    """A tar without tarfile's padding to 10 KiB records: data then two zero blocks."""
    return tar.rstrip(b"\0").ljust(((len(tar.rstrip(b"\0")) + 511) // 512) * 512, b"\0") + _TRAILER


def _tar(fmt: int, members: Iterable[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data else None)
    return _trim(buffer.getvalue())


def _info(
    name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = "", **pax: str
) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, len(data), link
    info.mtime, info.mode = 1_700_000_000, 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.pax_headers = pax
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info, data


def tar_seeds() -> list[bytes]:
    sys.path.insert(0, str(REPO))
    from tests.image.craft import layer_tar

    long = "very/" * 30 + "long-name.txt"
    seeds = [
        _trim(layer_tar([("etc", None, "dir"), ("etc/hosts", b"127.0.0.1 x\n", "file")])),
        _trim(layer_tar([("bin/sh", "busybox", "symlink"), ("bin/ls", "bin/sh", "hardlink")])),
        _trim(layer_tar([("app/.wh.old", b"", "file"), ("app/.wh..wh..opq", b"", "file")])),
    ]
    members = [
        _info("./", tarfile.DIRTYPE),
        _info("usr/", tarfile.DIRTYPE),
        _info("usr/a.txt", data=b"hello\n"),
        _info(long, data=b"x" * 700),
        _info("usr/link", tarfile.SYMTYPE, link="a.txt"),
        _info("usr/hard", tarfile.LNKTYPE, link="usr/a.txt"),
        _info("dev/null", tarfile.CHRTYPE),
        _info("dev/sda", tarfile.BLKTYPE),
        _info("run/fifo", tarfile.FIFOTYPE),
    ]
    for fmt in (tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        usable = [m for m in members if fmt != tarfile.USTAR_FORMAT or len(m[0].name) < 250]
        seeds.append(_tar(fmt, usable))
    seeds.append(_tar(tarfile.GNU_FORMAT, [_info("l" * 120, tarfile.SYMTYPE, link="t" * 120)]))
    seeds.append(
        _tar(
            tarfile.PAX_FORMAT,
            [
                _info(
                    "p",
                    data=b"abc",
                    path="pax/path",
                    uid="1000",
                    mtime="1700000000.5",
                    linkpath="x",
                    size="3",
                )
            ],
        )
    )
    buffer = io.BytesIO()  # a global pax header then an entry
    with tarfile.open(
        fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"comment": "global"}
    ) as tar:
        tar.addfile(_info("g.txt", data=b"g")[0], io.BytesIO(b"g"))
    seeds.append(_trim(buffer.getvalue()))
    return seeds


def _config(diff_ids: list[str], **extra: object) -> bytes:
    sys.path.insert(0, str(REPO))
    from tests.image.craft import config_json

    return config_json(diff_ids, **extra)  # type: ignore[arg-type]


def config_seeds() -> list[bytes]:
    return [
        _config([]),
        _config(["sha256:" + "a" * 64, "sha256:" + "b" * 64]),
        _config(
            ["sha256:" + "c" * 64],
            history=[
                {"created_by": "ADD file", "created": "2024-01-01T00:00:00Z"},
                {"created_by": 'CMD ["sh"]', "empty_layer": True},
            ],
            config={
                "Env": ["PATH=/bin"],
                "Entrypoint": ["/init"],
                "Cmd": "sh",
                "Labels": {"a": "b"},
                "ExposedPorts": {"80/tcp": {}},
                "Healthcheck": {"Test": ["CMD", "true"]},
                "Volumes": {"/data": {}},
                "User": "1000",
                "WorkingDir": "/app",
                "StopSignal": "SIGTERM",
            },
            variant="v8",
        ),
        b'{"rootfs": {"diff_ids": null}, "config": null, "history": [1, "x", {}]}',
    ]


def _docs(*docs: bytes) -> bytes:
    return SEPARATOR.join(docs)


def manifest_seeds() -> list[bytes]:
    layer, layer2 = tar_seeds()[0], tar_seeds()[1]
    one = _docs(
        b'[{"Config": "#1.json", "RepoTags": ["app:1"], "Layers": ["#2/layer.tar"]}]',
        _config(["sha256:#2"]),
        layer,
    )
    two = _docs(
        b'[{"Config": "#1.json", "RepoTags": ["a:1", "a:2"], '
        b'"Layers": ["#2/layer.tar", "#3/layer.tar", "#2/layer.tar"]}]',
        _config(["sha256:#2", "sha256:#3", "sha256:#2"]),
        layer,
        layer2,
    )
    several = _docs(
        b'[{"Config": "1", "Layers": []}, {"Config": "1", "Layers": [], "RepoTags": null}]',
        _config([]),
    )
    gzipped = _docs(
        b'[{"Config": "1", "Layers": ["2"]}]',
        _config(["sha256:" + hashlib.sha256(layer).hexdigest()]),
        gzip.compress(layer, mtime=0),
    )
    return [one, two, several, gzipped]


def oci_seeds() -> list[bytes]:
    layer = tar_seeds()[0]
    index_type = b'"application/vnd.oci.image.index.v1+json"'
    manifest_type = b'"application/vnd.oci.image.manifest.v1+json"'
    manifest = (
        b'{"schemaVersion": 2, "mediaType": ' + manifest_type + b', "config": {"mediaType": '
        b'"application/vnd.oci.image.config.v1+json", "digest": "sha256:#3"}, '
        b'"layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", '
        b'"digest": "sha256:#4", "size": ' + str(len(layer)).encode() + b"}]}"
    )
    single = _docs(
        b'{"schemaVersion": 2, "manifests": [{"mediaType": ' + manifest_type + b", "
        b'"digest": "sha256:#1", "annotations": {"org.opencontainers.image.ref.name": "1"}}]}',
        manifest.replace(b"#3", b"#2").replace(b"#4", b"#3"),
        _config(["sha256:#3"]),
        layer,
    )
    nested = _docs(
        b'{"schemaVersion": 2, "manifests": [{"mediaType": ' + index_type + b", "
        b'"digest": "sha256:#1"}]}',
        b'{"schemaVersion": 2, "mediaType": ' + index_type + b', "manifests": ['
        b'{"mediaType": ' + manifest_type + b', "digest": "sha256:#2", '
        b'"platform": {"os": "linux", "architecture": "amd64"}}, '
        b'{"mediaType": ' + manifest_type + b', "digest": "sha256:#2", '
        b'"platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}, '
        b'{"mediaType": ' + manifest_type + b', "digest": "sha256:' + b"0" * 64 + b'", '
        b'"platform": {"os": "unknown", "architecture": "unknown"}, '
        b'"annotations": {"vnd.docker.reference.type": "attestation-manifest"}}]}',
        manifest,
        _config(["sha256:#4"]),
        layer,
    )
    empty = _docs(b'{"schemaVersion": 2, "manifests": null}')
    return [single, nested, empty]


def dockerfile_seeds() -> list[bytes]:
    files = sorted(REPO.glob("examples/**/Dockerfile")) + sorted(REPO.glob("tests/**/Dockerfile"))
    seeds = [path.read_bytes() for path in files]
    if SHARED_DOCKERFILES.is_dir():
        shared = sorted(
            (p for p in SHARED_DOCKERFILES.rglob("*") if p.is_file()),
            key=lambda p: (p.stat().st_size, str(p)),
        )
        seeds += [p.read_bytes() for p in shared if p.stat().st_size <= SHARED_MAX_BYTES][
            :SHARED_SAMPLE
        ]
    sys.path.insert(0, str(REPO))
    from tests.dockerfile.generate import FRAGMENTS, generate

    seeds += [generate(seed, lines=25).encode() for seed in range(20)]
    seeds += [fragment.encode() for fragment in FRAGMENTS]
    return seeds


def shell_seeds() -> list[bytes]:
    from trimdock.dockerfile.parser import parse

    scripts: list[bytes] = []
    for text in dockerfile_seeds():
        for instruction in parse(text.decode("utf-8", "replace")).instructions:
            if instruction.keyword == "RUN" and not instruction.json:
                scripts.append(instruction.rest.encode())
    return [s for s in scripts if len(s) <= load("run_shell").max_len]


def substitute_seeds() -> list[bytes]:
    from trimdock.dockerfile.parser import parse

    seeds = [
        b"A=x\nB=${A:-y}\nC=${B:+$A}\n$C/${D-default}",
        b"escape=`\nA=`$x\n'$A' \"$A\" ${A:?msg}",
        b"A=a\nB=$A$A$A\nC=$B$B$B\n${C}",
        b'V=1.2\n${V%.*}${unset:-"q u"}',
    ]
    for text in dockerfile_seeds():
        lines = []
        for instruction in parse(text.decode("utf-8", "replace")).instructions:
            if instruction.keyword in ("ARG", "ENV"):
                lines += [w.raw for w in instruction.args if "=" in w.raw]
            if instruction.keyword == "FROM" and instruction.args:
                seeds.append("\n".join([*lines, instruction.args[0].raw]).encode())
    return seeds


def ignore_rows() -> list[tuple[str, str]]:
    sys.path.insert(0, str(REPO))
    from tests.context import test_engine_oracle, test_matcher

    rows: list[tuple[str, str]] = []
    for module in (test_matcher, test_engine_oracle):
        for value in vars(module).values():
            if isinstance(value, list):
                for row in value:
                    if isinstance(row, tuple) and len(row) >= 2 and isinstance(row[0], str):
                        rows.append((row[0], row[1] if isinstance(row[1], str) else ""))
    for path in REPO.glob("examples/**/.dockerignore"):
        rows.append((path.read_text(), "app/main.sh"))
    return rows


def ignore_seeds() -> list[bytes]:
    return [ignore.encode("utf-8", "surrogateescape") for ignore, _ in ignore_rows()]


def matcher_seeds() -> list[bytes]:
    return [
        ignore.encode("utf-8", "surrogateescape") + SEPARATOR + f"{path}\na/b/c\n".encode()
        for ignore, path in ignore_rows()
    ]


BUILDERS = {
    "tar_header": tar_seeds,
    "docker_manifest": manifest_seeds,
    "oci_index": oci_seeds,
    "image_config": config_seeds,
    "dockerfile": dockerfile_seeds,
    "run_shell": shell_seeds,
    "arg_substitute": substitute_seeds,
    "dockerignore_reader": ignore_seeds,
    "dockerignore_matcher": matcher_seeds,
}


def write_corpus(name: str) -> int:
    folder = CORPUS_DIR / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    max_len = load(name).max_len
    unique = {seed for seed in BUILDERS[name]() if len(seed) <= max_len}
    for seed in unique:
        (folder / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    return len(unique)


def main() -> None:
    assert set(BUILDERS) == set(NAMES)
    for name in NAMES:
        print(f"{name}: {write_corpus(name)} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
