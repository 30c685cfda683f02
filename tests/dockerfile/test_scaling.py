"""Inputs sized so that quadratic work would take minutes: each must lint in linear time.

The tests check results on the big inputs, not their speed (timings are in bench/lint_bench.py
and docs/lint.md "Limits").
"""

from __future__ import annotations

from trimdock.dockerfile import parse
from trimdock.dockerfile.shell import parse_script
from trimdock.report.finding import FileLocation
from trimdock.rules.analysis import Analysis
from trimdock.rules.engine import lint
from trimdock.rules.pragmas import Pragmas


def test_twenty_thousand_chained_stages() -> None:
    # Each stage is built FROM the previous one: finding the parent by scanning the earlier
    # stages made this quadratic (57 s before the fix).
    count = 20_000
    text = "FROM busybox AS s0\n" + "".join(f"FROM s{i - 1} AS s{i}\n" for i in range(1, count))
    dockerfile = parse(text)
    assert dockerfile.stages[-1].parent_stage == count - 2
    assert dockerfile.stage_by_name("S123") is dockerfile.stages[123]
    findings = lint(dockerfile)
    assert all(f.rule_id != "TD001" for f in findings)


def test_half_a_million_leading_assignments() -> None:
    # `words.pop(0)` per assignment made this 37 s before the fix.
    count = 500_000
    script = parse_script("a=b " * count + "true")
    assert [c.argv for c in script.commands] == [("true",)]


def test_env_wrapper_with_many_assignments() -> None:
    count = 200_000
    script = parse_script("env " + "a=b " * count + "true x")
    assert [c.argv for c in script.commands][-1] == ("true", "x")


def test_six_thousand_pragmas_each_over_a_finding() -> None:
    # Every finding was checked against every pragma range: 30k of each took minutes.
    count = 6_000
    text = "FROM a:1\n" + "# hadolint ignore=DL3059\nRUN a\n# trimdock ignore=TD203\nRUN b\n" * (
        count // 2
    )
    findings = lint(parse(text))
    rule_ids = {f.rule_id for f in findings}
    assert "TD116" in rule_ids  # RUN b after RUN a: not ignored
    reported = {
        f.location.line
        for f in findings
        if f.rule_id == "TD116" and isinstance(f.location, FileLocation)
    }
    assert reported == {5 + 4 * i for i in range(count // 2)}  # each `RUN b`; `RUN a` ignored


def test_pragma_lookup_per_line_is_not_a_scan_of_all_pragmas() -> None:
    # 50k one-line ranges and a lookup on each line: a scan per lookup is 1e9 steps.
    count = 50_000
    pragmas = Pragmas(
        frozenset(), tuple((line, line, frozenset({"TD116"})) for line in range(count))
    )
    assert all(pragmas.ignores({"TD116"}, line) for line in range(count))
    assert not pragmas.ignores({"TD116"}, count)
    assert not pragmas.ignores({"TD101"}, 5)


def test_heredoc_bodies_count_against_the_bashlex_budget() -> None:
    # bashlex parses about 45 KB/s: past 400k characters of scripts per file the quick splitter
    # takes over, and heredoc bodies used to be exempt (10 MB of them: minutes).
    body = ("echo " + "x" * 1000 + "\n") * 20
    text = "FROM a:1\n" + ("RUN <<EOF\n" + body + "EOF\n") * 30 + "USER app\n"
    analysis = Analysis.build(parse(text))
    scripts = [script for _facts, _instruction, script in analysis.runs()]
    assert len(scripts) == 30
    assert scripts[0].parsed and not scripts[-1].parsed  # budget spent: split, not bashlex
    assert all(len(script.commands) == 20 for script in scripts)


def test_copy_from_the_previous_of_many_stages() -> None:
    # TD611 built a set of the earlier stage names for each COPY --from: quadratic.
    count = 8_000
    text = "FROM a:1 AS s0\n" + "".join(
        f"FROM a:1 AS s{i}\nCOPY --from=s{i - 1} /x /y\n" for i in range(1, count)
    )
    text += "COPY --from=nowhere /x /y\nCOPY --from=s7999 /x /y\n"
    findings = [f for f in lint(parse(text)) if f.rule_id == "TD611"]
    assert [f.message for f in findings] == [
        "COPY --from=nowhere: no earlier stage is named nowhere",
        "COPY --from=s7999: no earlier stage is named s7999",  # its own stage is not earlier
    ]
