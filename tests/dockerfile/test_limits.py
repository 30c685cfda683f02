"""Variable expansion is bounded: per word, per file and in nesting depth; a word past a limit
is kept as written and reported (TD010), the rest of the file is still checked."""

from __future__ import annotations

from trimdock.dockerfile import parse
from trimdock.dockerfile.substitute import (
    MAX_FILE_EXPANSION,
    MAX_NESTING,
    MAX_WORD_EXPANSION,
    Expander,
    process_word,
    unquote,
)
from trimdock.rules.engine import lint


def arg_chain(depth: int, image_line: str = "FROM busybox:${a%d}\n") -> str:
    """ARGs that each repeat the previous one ten times: 10^(depth+1) characters at the end."""
    lines = ["ARG a0=xxxxxxxxxx\n"]
    lines += [f"ARG a{i}=" + f"${{a{i - 1}}}" * 10 + "\n" for i in range(1, depth + 1)]
    return "".join(lines) + image_line.replace("%d", str(depth)) + "RUN true\n"


def test_nine_deep_arg_chain_is_bounded_and_reported() -> None:
    text = arg_chain(9)
    assert len(text) < 600  # the 551-byte file of the report, give or take the RUN line
    dockerfile = parse(text)
    issues = [i for i in dockerfile.issues if i.code == "expansion-limit"]
    assert issues, dockerfile.issues
    # a5 would be a million characters: it is the first word kept as written.
    assert issues[0].span.line == 6
    assert "ARG a5" in issues[0].message and "128 KiB" in issues[0].message
    assert len(dockerfile.stages[0].resolved_base) <= MAX_WORD_EXPANSION + len(text)
    findings = lint(dockerfile)
    assert {f.rule_id for f in findings if f.location and f.location.line == 6} >= {"TD010"}


def test_a_word_within_the_limit_expands() -> None:
    expander = Expander()
    result = expander.expand("${a}-${b:-d}", {"a": "x" * 1000})
    assert result.value == "x" * 1000 + "-d"
    assert result.within_limits and result.unset == ()


def test_word_limit_keeps_the_word_as_written() -> None:
    raw = "$a" * 200
    result = Expander().expand(raw, {"a": "x" * 1024})  # 200 KiB: past 128 KiB
    assert result.value == raw
    assert result.limit is not None and "128 KiB" in result.limit
    assert process_word(raw, {"a": "x" * 1024}) == raw


def test_file_limit_is_shared_by_the_words_of_one_file() -> None:
    expander = Expander()
    big = {"a": "x" * MAX_WORD_EXPANSION}
    fits = MAX_FILE_EXPANSION // MAX_WORD_EXPANSION
    for _ in range(fits):
        assert expander.expand("$a", big).within_limits
    over = expander.expand("pre-$a", big)
    assert over.value == "pre-$a"
    assert over.limit is not None and "64 MiB" in over.limit
    assert expander.expand("no variables", big).value == "no variables"
    assert Expander().expand("$a", big).within_limits  # another file has its own budget


def test_unset_variables_are_named() -> None:
    result = Expander().expand("$x/${y}/${z:-d}/${w:?}", {"w": ""})
    assert result.value == "//d/"
    assert result.unset == ("x", "y", "w")


def test_deeply_nested_defaults_are_a_limit_not_a_recursion_error() -> None:
    depth = 100_000
    raw = "${a:-" * depth + "x" + "}" * depth
    result = Expander().expand(raw, {})
    assert result.value == raw
    assert result.limit is not None and str(MAX_NESTING) in result.limit
    assert unquote('"' + raw + '"') == '"' + raw + '"'
    shallow = "${a:-" * 3 + "x" + "}" * 3
    assert Expander().expand(shallow, {}).value == "x"


def test_deep_nesting_in_a_dockerfile_is_a_finding() -> None:
    depth = 1000  # past the nesting limit; a RecursionError before the fix
    text = "ARG v=" + "${a:-" * depth + "x" + "}" * depth + "\nFROM busybox:$v\n"
    dockerfile = parse(text)
    assert [i.span.line for i in dockerfile.issues if i.code == "expansion-limit"] == [1]
    assert "TD010" in {f.rule_id for f in lint(dockerfile)}
