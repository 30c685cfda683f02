"""The explorer's model: the filesystem at every layer, its marks and figures, from one pass."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.layers.builders import d, f, ln, wh
from trimdock.image.model import LayerEntry
from trimdock.layers.analysis import WasteAnalysis, analyze_layers
from trimdock.layers.overlay import Overlay
from trimdock.ui.model import Directory, ExploreModel, Mark, View


def model_of(*layers: list[LayerEntry]) -> tuple[ExploreModel, WasteAnalysis]:
    overlay = Overlay(record_hidden=True)
    analysis = analyze_layers(layers, overlay=overlay)
    instructions = tuple(f"RUN step {i}" for i in range(len(layers)))
    return ExploreModel.from_overlay("test", instructions, analysis, overlay), analysis


LAYERS = (
    [d("app"), f("app/main", 100), f("app/conf", 10), f("tmp/big", 5000)],
    [f("app/conf", 12), f("app/new", 3)],
    [wh("tmp/big"), wh("app/new")],
)


def marks(model: ExploreModel, layer: int, view: View = View.ALL) -> dict[str, tuple[Mark, bool]]:
    found: dict[str, tuple[Mark, bool]] = {}
    stack = [model.root]
    while stack:
        directory = stack.pop()
        for state in model.files(directory, layer, view):
            found[state.path] = (state.mark, state.wasted)
        stack.extend(child for child, _ in model.subdirectories(directory, layer, view))
    return found


def empty_directories(model: ExploreModel, layer: int, view: View) -> list[Directory]:
    """The directories shown as empty: nothing below them to show, yet in the final image
    from the layer of their entry on."""
    found = []
    stack = [model.root]
    while stack:
        directory = stack.pop()
        for child, figures in model.subdirectories(directory, layer, view):
            stack.append(child)
            if figures.bare:
                assert not child.files or not list(model.files(child, layer, view))
                found.append(child)
    return found


def test_each_layer_shows_its_filesystem_with_marks() -> None:
    model, _ = model_of(*LAYERS)
    assert marks(model, 0) == {
        "app/main": (Mark.ADDED, False),
        "app/conf": (Mark.ADDED, True),  # overwritten by layer 1: its 10 bytes are wasted
        "tmp/big": (Mark.ADDED, True),
    }
    assert marks(model, 1) == {
        "app/main": (Mark.NONE, False),
        "app/conf": (Mark.MODIFIED, False),
        "app/new": (Mark.ADDED, True),
        "tmp/big": (Mark.NONE, True),
    }
    assert marks(model, 2) == {
        "app/main": (Mark.NONE, False),
        "app/conf": (Mark.NONE, False),
        "app/new": (Mark.REMOVED, True),
        "tmp/big": (Mark.REMOVED, True),
    }
    assert marks(model, 2, View.CHANGES) == {
        "app/new": (Mark.REMOVED, True),
        "tmp/big": (Mark.REMOVED, True),
    }


def test_figures_match_the_analysis() -> None:
    model, analysis = model_of(*LAYERS)
    last = len(LAYERS) - 1
    assert model.figures(model.root, last, View.ALL).bytes == analysis.visible_size == 112
    assert model.figures(model.root, last, View.WASTE).bytes == analysis.wasted == 5013
    assert model.figures(model.root, 0, View.ALL).bytes == 5110
    assert model.figures(model.root, 0, View.ALL).wasted == 5010
    assert model.figures(model.root, 0, View.WASTE).bytes == 5010  # shipped by layer 0
    assert model.figures(model.root, 2, View.CHANGES).changed == 2
    assert model.figures(model.root, last, View.ALL, "CONF").files == 1
    assert model.figures(model.root, last, View.ALL).files == analysis.visible_files == 2
    assert model.figures(model.root, last, View.ALL).shown == 4  # with the 2 removed


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "a/b", "a/c", "b", "a/b/c", "c/d"]),
                st.integers(0, 500),
                st.booleans(),
            ),
            max_size=8,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_directory_figures_agree_with_the_files_shown(
    spec: list[list[tuple[str, int, bool]]],
) -> None:
    layers = [
        [wh(path) if delete else f(f"{path}/f{size % 3}", size) for path, size, delete in items]
        for items in spec
    ]
    model, analysis = model_of(*layers)
    for layer in range(len(layers)):
        for view in View:
            states = []
            stack = [model.root]
            while stack:
                directory = stack.pop()
                states.extend(model.files(directory, layer, view))
                stack.extend(directory.dirs.values())
            figures = model.figures(model.root, layer, view)
            removed = [s for s in states if s.mark is Mark.REMOVED]
            empty = empty_directories(model, layer, view)
            assert figures.shown == len(states) + len(empty) == len(states) + figures.empty
            assert figures.files == len(states) - (len(removed) if view is View.ALL else 0)
            counted = [s for s in states if view is not View.ALL or s.mark is not Mark.REMOVED]
            assert figures.bytes == sum(s.bytes for s in counted)
            if view is not View.WASTE:
                new_empty = sum(model.figures(e, layer, view).changed for e in empty)
                assert figures.changed == sum(s.mark is not Mark.NONE for s in states) + new_empty
                assert figures.wasted == sum(
                    s.bytes for s in states if s.wasted and s not in removed
                )
    last = len(layers) - 1
    assert model.figures(model.root, last, View.ALL).bytes == analysis.visible_size
    assert model.figures(model.root, last, View.WASTE).bytes == analysis.wasted


def test_empty_directories_are_shown_from_the_layer_of_their_entry() -> None:
    model, _ = model_of(
        [d("var"), d("var/empty"), f("var/log/a", 5)],
        [d("srv"), wh("var/log/a")],
        [f("srv/x", 1)],
    )

    def bare(layer: int, view: View = View.ALL) -> set[str]:
        return {e.path for e in empty_directories(model, layer, view)}

    assert bare(0) == {"var/empty"}
    # var/log: its file removed here (shown as removed), empty after; srv is new and empty.
    assert bare(1) == {"var/empty", "srv"}
    assert bare(1, View.CHANGES) == {"srv"}
    assert model.figures(model.root, 1, View.CHANGES).changed == 2
    assert bare(2) == {"var/empty", "var/log"}
    assert bare(2, View.CHANGES) == set()
    assert bare(2, View.WASTE) == set()
    root = model.figures(model.root, 2, View.ALL)
    assert (root.files, root.empty, root.shown) == (1, 2, 3)


def test_hard_links_count_their_bytes_once_at_every_layer() -> None:
    """Names of one inode: the bytes stay with the name visible longest, whatever order the
    later layers remove or replace them in."""
    for first, second in (("a", "b"), ("b", "a")):
        model, analysis = model_of(
            [f("d/a", 1000), ln("d/b", "d/a")],
            [wh(f"d/{first}")],
            [f(f"d/{second}", 7)],
        )
        assert [model.figures(model.root, layer, View.ALL).bytes for layer in range(3)] == [
            1000,
            1000,
            7,
        ]
        assert model.figures(model.root, 2, View.WASTE).bytes == analysis.wasted == 1000
