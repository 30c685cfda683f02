"""Which fixes explain a lost path (pure): by the layer's instruction, or the folder removed."""

from __future__ import annotations

from trimdock.dockerfile import parse
from trimdock.fix.apply import AppliedFix
from trimdock.fix.verdict import _folder, layer_lines, suspects
from trimdock.report.finding import Applicability, Fix

TEXT = (
    "FROM busybox:latest\n"
    "WORKDIR /srv\n"
    "RUN mkdir -p /opt/app \\\n"
    "    && echo x > /opt/app/config\n"
    "ENV A=1\n"
    "COPY run.sh /srv/\n"
)
# base layer, WORKDIR, RUN, COPY (ENV makes no layer)
STEPS = (
    "ADD file:abc in / ",
    "WORKDIR /srv",
    "RUN mkdir -p /opt/app && ...",
    "COPY file:x in /srv/",
)


def _fix(
    rule: str, lines: tuple[tuple[int, int], ...], removes: tuple[str, ...] = ()
) -> AppliedFix:
    return AppliedFix(rule, 1, lines[0][0], Fix((), Applicability.SAFE, rule, removes), lines)


def test_layers_are_matched_to_the_final_stage_from_the_top() -> None:
    made = layer_lines(parse(TEXT), STEPS)
    assert made == {1: (2, 2), 2: (3, 4), 3: (6, 6)}  # the base layer (0) is nobody's


def test_folders_of_removes_patterns() -> None:
    assert _folder("/var/lib/apt/lists/*") == "/var/lib/apt/lists"
    assert _folder("/opt/sdk/docs") == "/opt/sdk"
    for pattern in ("*/.cache/pip", "dpkg:recommends", "/tmp", "/*"):
        assert _folder(pattern) is None, pattern


def test_the_fix_that_edited_the_layer_or_removes_nearby_is_blamed() -> None:
    made = layer_lines(parse(TEXT), STEPS)
    run_fix = _fix("TD107", ((4, 4),))
    copy_fix = _fix("TD202", ((6, 6),))
    lists_fix = _fix("TD104", ((3, 3),), ("/var/lib/apt/lists/*",))
    layer_of = {"/opt/app/config": 2, "/var/lib/apt/lists/x": 0}
    blamed = suspects([run_fix, copy_fix], ["/opt/app/config"], layer_of, made)
    assert blamed == (run_fix,)
    assert suspects([copy_fix], ["/opt/app/config"], layer_of, made) == ()
    assert suspects([copy_fix, lists_fix], ["/var/lib/apt/lists/x"], layer_of, made) == (lists_fix,)
