"""The legacy `docker save` archive, checked against what the engine itself reports."""

from __future__ import annotations

from trimdock.image.model import EntryType
from trimdock.image.open import open_image
from trimdock.image.tarentry import unsafe_reason

from .conftest import BuiltImage


def visible_bytes(entries: list) -> int:  # type: ignore[type-arg]
    """What the engine counts for a layer: file bytes once per inode plus symlink targets."""
    return sum(e.size for e in entries) + sum(
        len(e.link) for e in entries if e.type is EntryType.SYMLINK
    )


def test_diff_ids_and_config_match_the_engine(basic_image: BuiltImage) -> None:
    with open_image(f"docker-archive:{basic_image.archive}") as image:
        assert image.source == "docker-archive"
        assert [layer.diff_id for layer in image.layers] == basic_image.inspect["RootFS"]["Layers"]
        assert image.config_digest == basic_image.inspect["Id"]
        assert image.repo_tags == (basic_image.tag,)
        assert image.config.cmd == ("sh",)
        assert "FOO=bar" in image.config.env
        assert image.history_matches_layers


def test_layer_sizes_add_up_to_the_engine_size(basic_image: BuiltImage) -> None:
    with open_image(f"docker-archive:{basic_image.archive}") as image:
        total = sum(visible_bytes(list(layer.content.entries())) for layer in image.layers)
        assert total == basic_image.inspect["Size"]
        for layer in image.layers:
            assert layer.size is not None and layer.size % 512 == 0
            assert layer.blob_digest == layer.diff_id


def test_history_blames_each_layer(basic_image: BuiltImage) -> None:
    with open_image(f"docker-archive:{basic_image.archive}") as image:
        instructions = [layer.instruction for layer in image.layers]
    assert instructions[1].startswith("COPY dir:")
    assert instructions[2].startswith("RUN mkdir -p /opt/app/sub")
    assert instructions[5].startswith("RUN rm /data/one.txt")


def test_entries_carry_links_whiteouts_and_modes(basic_image: BuiltImage) -> None:
    with open_image(f"docker-archive:{basic_image.archive}") as image:
        run, rm = ({e.path: e for e in image.layers[i].content.entries()} for i in (2, 5))
    assert run["opt/app/hard"].type is EntryType.HARDLINK
    assert run["opt/app/hard"].link == "opt/app/a.txt"
    assert run["opt/app/soft"].type is EntryType.SYMLINK and run["opt/app/soft"].link == "a.txt"
    assert run["opt/app/sub/big.bin"].size == 100_000
    assert run["opt/app"].type is EntryType.DIR
    assert "data/.wh.one.txt" in rm and "opt/app/.wh.sub" in rm
    assert rm["opt/app/a.txt"].mode == 0o600
    assert all(unsafe_reason(e) is None for e in run.values())


def test_repeated_layer_symlink_is_followed(basic_image: BuiltImage) -> None:
    with open_image(f"docker-archive:{basic_image.archive}") as image:
        third, fourth = image.layers[3], image.layers[4]
        assert third.diff_id == fourth.diff_id
        assert list(third.content.entries()) == list(fourth.content.entries())
        assert [e.path for e in fourth.content.entries()] == ["same.txt"]


def test_open_gives_file_bytes(basic_image: BuiltImage) -> None:
    with (
        open_image(f"docker-archive:{basic_image.archive}") as image,
        image.layers[1].content.open() as entries,
    ):
        data = {e.path: reader.read() for e, reader in entries if reader is not None}
    assert data == {"data/one.txt": b"one\n", "data/two.txt": b"two two\n"}


def test_seek_path_gives_the_same_entries_as_the_verified_stream(basic_image: BuiltImage) -> None:
    with open_image(f"docker-archive:{basic_image.archive}") as verified:
        streamed = [list(layer.content.entries()) for layer in verified.layers]
        # Second read: verified already, so headers are read with seeks.
        again = [list(layer.content.entries()) for layer in verified.layers]
    with open_image(str(basic_image.archive), verify=False) as trusted:
        seeked = [list(layer.content.entries()) for layer in trusted.layers]
        assert trusted.source == "docker-archive"
    assert streamed == again == seeked
