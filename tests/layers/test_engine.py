"""`trimdock layers` on images built by the real engine, checked against independent oracles.

* exact waste: computed here from the bytes each Dockerfile wrote (`dd bs=1000 count=N`);
* layer sizes: the engine's own accounting (`docker history`, `docker image inspect`);
* dive-compatible figures: the dive binary's `--json` and `--ci` output on the same archive;
* sources: the OCI layout and archive forms (gzip, zstd) give identical figures.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.engine import build_image, docker, save_image
from trimdock.cli.main import run
from trimdock.image.open import open_image
from trimdock.layers.analysis import WasteAnalysis, analyze_layers

pytestmark = pytest.mark.engine

FIXTURES = Path(__file__).parent / "fixtures"
DIVE = Path(sys.executable).parent / "dive"
KB = 1000


@dataclass(frozen=True)
class Expected:
    wasted: int
    # (path, kind, bytes, files, shipped_in, hidden_by) of every wasted path
    paths: tuple[tuple[str, str, int, int, int, int], ...]
    dive_matches_exact: bool = False  # dive's wastedBytes is right for this image


CASES = {
    "delete_file": Expected(
        100 * KB, (("data/big", "deleted", 100 * KB, 1, 1, 2),), dive_matches_exact=True
    ),
    "delete_dir": Expected(280 * KB, (("d", "deleted", 280 * KB, 3, 1, 2),)),
    "opaque": Expected(100 * KB, (("o", "opaque", 100 * KB, 2, 1, 2),)),
    "overwrite": Expected(40 * KB, (("w/f", "overwritten", 40 * KB, 1, 1, 2),)),
    "chmod": Expected(70 * KB, (("c/f", "metadata", 70 * KB, 1, 1, 2),)),
    # a+b and c+d are hard-link pairs; b survives, so only c's bytes are gone.
    "hardlinks": Expected(20 * KB, (("h/d", "deleted", 20 * KB, 1, 1, 2),)),
    # Symlinks weigh their target's length: "/bin/busybox" deleted, "busybox" replaced.
    "symlinks": Expected(
        12 + 7, (("s/one", "deleted", 12, 1, 1, 2), ("s/two", "overwritten", 7, 1, 1, 2))
    ),
    "empty_layers": Expected(0, (), dive_matches_exact=True),
    "empty_dir_delete": Expected(
        3 * KB, (("e", "deleted", 3 * KB, 1, 2, 3),), dive_matches_exact=True
    ),
}


def many_layers_dockerfile() -> tuple[str, int]:
    """16 RUN layers writing i kB each; every fourth deletes the previous file."""
    lines = ["FROM busybox:latest", "RUN mkdir /m"]
    wasted = 0
    for i in range(1, 17):
        write = f"dd if=/dev/zero of=/m/f{i} bs=1000 count={i}"
        if i % 4 == 0:
            lines.append(f"RUN rm /m/f{i - 1} && {write}")
            wasted += (i - 1) * KB
        else:
            lines.append(f"RUN {write}")
    return "\n".join(lines) + "\n", wasted


@pytest.fixture(scope="module")
def archives(engine: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    result = {name: save_image(build_image(f"layers-{name}", FIXTURES / name)) for name in CASES}
    context = tmp_path_factory.mktemp("many")
    (context / "Dockerfile").write_text(many_layers_dockerfile()[0])
    result["many_layers"] = save_image(build_image("layers-many", context))
    return result


def analyze(reference: str) -> WasteAnalysis:
    with open_image(reference) as image:
        return analyze_layers(layer.content.entries() for layer in image.layers)


def image_tag(archive: Path) -> str:
    return json.loads(
        subprocess.run(
            ["tar", "-xOf", str(archive), "manifest.json"], capture_output=True, check=True
        ).stdout
    )[0]["RepoTags"][0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_waste_matches_the_bytes_the_dockerfile_wrote(
    archives: dict[str, Path], name: str
) -> None:
    expected = CASES[name]
    result = analyze(f"docker-archive:{archives[name]}")
    assert result.wasted == expected.wasted
    assert result.size == result.visible_size + result.wasted
    got = {
        (w.path, w.kind, w.bytes, w.files, w.shipped_in, w.hidden_by) for w in result.wasted_paths
    }
    assert got == set(expected.paths)
    if expected.dive_matches_exact:
        assert result.dive.wasted_bytes == result.wasted


def test_many_layers(archives: dict[str, Path]) -> None:
    result = analyze(f"docker-archive:{archives['many_layers']}")
    assert len(result.layers) == 18
    assert result.wasted == many_layers_dockerfile()[1]
    assert [layer.wasted for layer in result.layers[2:]] == [
        i * KB if (i + 1) % 4 == 0 else 0 for i in range(1, 17)
    ]


@pytest.mark.parametrize("name", [*sorted(CASES), "many_layers"])
def test_layer_sizes_match_the_engine(archives: dict[str, Path], name: str) -> None:
    archive = archives[name]
    tag = image_tag(archive)
    with open_image(f"docker-archive:{archive}") as image:
        result = analyze_layers(layer.content.entries() for layer in image.layers)
        empty = [entry.empty_layer for entry in image.history]
    rows = docker("history", "--no-trunc", "--human=false", "--format", "{{.Size}}", tag).split()
    sizes = [
        int(size) for size, is_empty in zip(reversed(rows), empty, strict=True) if not is_empty
    ]
    assert [layer.size for layer in result.layers] == sizes
    assert result.size == int(docker("image", "inspect", "--format", "{{.Size}}", tag))


def dive_json(archive: Path, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    out = tmp_path / "dive.json"
    subprocess.run(
        [str(DIVE), "--source", "docker-archive", str(archive), "--json", str(out)],
        capture_output=True,
        check=True,
    )
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def dive_ci(archive: Path) -> dict[str, float]:
    proc = subprocess.run(
        [str(DIVE), "--ci", "--source", "docker-archive", str(archive)],
        capture_output=True,
        text=True,
        check=False,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)
    figures = {}
    for key in ("efficiency", "wastedBytes", "userWastedPercent"):
        match = re.search(rf"{key}: ([0-9.]+)", text)
        assert match, text
        figures[key] = float(match.group(1))
    return figures


@pytest.mark.parametrize("name", [*sorted(CASES), "many_layers"])
def test_dive_compatible_figures_equal_dive_itself(
    archives: dict[str, Path], name: str, tmp_path: Path
) -> None:
    archive = archives[name]
    ours = analyze(f"docker-archive:{archive}").dive
    theirs = dive_json(archive, tmp_path)
    assert {(f.path, f.count, f.bytes) for f in ours.inefficient_files} == {
        (ref["file"], ref["count"], ref["sizeBytes"]) for ref in theirs["image"]["fileReference"]
    }
    assert ours.efficiency == pytest.approx(theirs["image"]["efficiencyScore"], rel=1e-12)
    assert ours.wasted_bytes == theirs["image"]["inefficientBytes"]
    assert ours.size == theirs["image"]["sizeBytes"]
    assert ours.inefficient_count == len(theirs["image"]["fileReference"])
    ci = dive_ci(archive)
    assert ci["wastedBytes"] == ours.wasted_bytes
    assert round(100 * ours.efficiency, 4) == ci["efficiency"]
    assert ours.user_wasted_percent is not None
    assert round(ours.user_wasted_percent, 4) == ci["userWastedPercent"]


@pytest.mark.parametrize("name", ["hardlinks", "opaque", "symlinks"])
@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_oci_forms_give_identical_figures(
    archives: dict[str, Path], name: str, compression: str, tmp_path: Path
) -> None:
    source = f"docker-archive:{archives[name]}"
    layout = tmp_path / "layout"
    oci_archive = tmp_path / "image.oci.tar"
    for dest in (f"oci:{layout}:t", f"oci-archive:{oci_archive}:t"):
        subprocess.run(
            ["skopeo", "copy", "-q", "--dest-compress-format", compression, source, dest],
            capture_output=True,
            check=True,
        )
    reference = analyze(source)
    assert analyze(f"oci:{layout}:t") == reference
    assert analyze(f"oci-archive:{oci_archive}") == reference


# -- the command -----------------------------------------------------------------------------


def cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(["layers", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_json_gate_and_engine_name(
    archives: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    archive = archives["delete_dir"]
    code, out, _ = cli(f"docker-archive:{archive}", "--format", "json", capsys=capsys)
    assert code == 0
    data = json.loads(out)
    assert data["totals"]["wasted_bytes"] == 280 * KB
    assert data["wasted_paths"][0]["path"] == "/d"
    assert data["wasted_paths"][0]["hidden_by_instruction"] == "RUN rm -rf /d"
    assert data["layers"][1]["files_added"] == 3
    assert data["layers"][2]["files_deleted"] == 3
    code, out, _ = cli(f"docker-archive:{archive}", "--max-waste", "100kB", capsys=capsys)
    assert code == 1
    assert "FAIL max-waste" in out
    code, _, _ = cli(f"docker-archive:{archive}", "--max-waste", "20%", "-q", capsys=capsys)
    assert code == 0
    # The same image by its engine name gives the same figures.
    code, out, _ = cli(image_tag(archive), "--format", "json", capsys=capsys)
    assert code == 0
    by_name = json.loads(out)
    assert by_name["totals"] == data["totals"]
    assert by_name["dive"] == data["dive"]


def test_cli_gate_from_config_and_bad_input(
    archives: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    archive = f"docker-archive:{archives['chmod']}"
    config = tmp_path / ".trimdock.toml"
    config.write_text("[layers]\nmin-efficiency = 0.99\n")
    code, out, _ = cli(archive, "--config", str(config), capsys=capsys)
    assert code == 1
    assert "FAIL min-efficiency" in out
    assert "(must be >= 99%)" in out  # in the report's unit (a percentage), not a ratio
    config.write_text("[layers]\nmin-effciency = 0.99\n")
    code, _, err = cli(archive, "--config", str(config), capsys=capsys)
    assert code == 2
    assert "unknown key 'min-effciency'" in err
    code, _, err = cli(archive, "--max-waste", "lots", capsys=capsys)
    assert (code, err.count("\n")) == (2, 1)
    code, _, err = cli(f"docker-archive:{tmp_path / 'missing.tar'}", capsys=capsys)
    assert (code, err.count("\n")) == (2, 1)
    assert "missing.tar" in err


def test_cli_time_travel(
    archives: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    archive = f"docker-archive:{archives['delete_dir']}"
    code, out, _ = cli(archive, "--deleted", "--format", "json", capsys=capsys)
    assert code == 0
    listed = {(f["path"], f["bytes"], f["hidden_by"]) for f in json.loads(out)["files"]}
    assert listed == {("/d/a", 200 * KB, 2), ("/d/b", 50 * KB, 2), ("/d/sub/c", 30 * KB, 2)}
    target = tmp_path / "fs"
    code, _, _ = cli(archive, "--at", "1", "--export", str(target), "-q", capsys=capsys)
    assert code == 0
    assert (target / "d/a").stat().st_size == 200 * KB
    assert (target / "bin/busybox").stat().st_size > 0
    assert (target / "bin/sh").is_symlink()
    code, _, _ = cli(archive, "--extract", "/d/sub/c", "--to", str(tmp_path), capsys=capsys)
    assert code == 0
    assert (tmp_path / "c").read_bytes() == b"\0" * 30 * KB
    code, _, err = cli(archive, "--at", "9", capsys=capsys)
    assert code == 2
    assert "layer 9 does not exist" in err


def test_cli_filesystem_at_a_layer(
    archives: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    archive = f"docker-archive:{archives['delete_dir']}"
    code, out, _ = cli(archive, "--at", "1", "--format", "json", capsys=capsys)
    assert code == 0
    entries = {e["path"]: e for e in json.loads(out)["entries"]}
    assert (entries["/d/sub/c"]["bytes"], entries["/d/sub/c"]["layer"]) == (30 * KB, 1)
    assert entries["/bin/sh"]["type"] == "symlink"
    code, out, _ = cli(archive, "--at", "-1", "--format", "json", capsys=capsys)
    assert "/d" not in {e["path"] for e in json.loads(out)["entries"]}
    # The text listing has a header naming its columns, and a row per entry under it.
    code, out, _ = cli(archive, "--at", "1", "--no-color", capsys=capsys)
    lines = out.splitlines()
    assert lines[0].split() == ["mode", "bytes", "from", "path"]
    row = next(line for line in lines if line.endswith(" /d/sub/c"))
    assert row.split()[1:3] == [str(30 * KB), "L1"]


def test_cli_refuses_corrupt_archives_in_one_line(
    archives: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = archives["delete_file"].read_bytes()
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(data[: len(data) // 2])
    code, _, err = cli(f"docker-archive:{truncated}", capsys=capsys)
    assert (code, err.count("\n")) == (2, 1)
    assert "truncated.tar" in err
    # One byte of file data changed: every tar header is still valid, only the digest tells.
    assert data.count(b"keep\n") == 1
    tampered = tmp_path / "tampered.tar"
    tampered.write_bytes(data.replace(b"keep\n", b"kEep\n"))
    code, _, err = cli(f"docker-archive:{tampered}", capsys=capsys)
    assert (code, err.count("\n")) == (2, 1)
    assert "mismatch" in err
    code, _, _ = cli(f"docker-archive:{tampered}", "--no-verify", "-q", capsys=capsys)
    assert code == 0
