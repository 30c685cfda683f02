"""Our parser against BuildKit's (the `dockerfile` package): same instructions, flags, values,
heredocs and line ranges on every Dockerfile in the repository and on generated ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dockerfile.differential import ours, theirs
from tests.dockerfile.generate import generate, mutate

ROOT = Path(__file__).resolve().parents[2]


def _repository_dockerfiles() -> list[Path]:
    found = [
        p
        for base in (ROOT / "tests", ROOT / "examples")
        for p in base.rglob("*")
        if p.is_file() and (p.name == "Dockerfile" or p.suffix == ".Dockerfile")
    ]
    return sorted(found)


def _uses_check_directive(text: str) -> bool:
    # The wrapped BuildKit predates the `# check=` directive; modern BuildKit accepts it.
    return text.lstrip().lower().startswith("# check=")


@pytest.mark.parametrize("path", _repository_dockerfiles(), ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_dockerfile_parses_like_buildkit(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    if _uses_check_directive(text) or "\x00" in text:
        pytest.skip("not comparable with the wrapped BuildKit version")
    assert ours(text) == theirs(text)


def test_generated_dockerfiles_parse_like_buildkit() -> None:
    mismatches = [
        seed for seed in range(300) if ours(generate(seed, 30)) != theirs(generate(seed, 30))
    ]
    assert mismatches == []


def test_mutated_dockerfiles_parse_like_buildkit() -> None:
    mismatches = []
    for seed in range(1500):
        text = mutate(generate(seed, 15), seed, 4)
        if ours(text) != theirs(text):
            mismatches.append(seed)
    assert mismatches == []


@pytest.mark.parametrize(
    "text",
    [
        "# escape=`\nRUN a `\n b",
        "RUN <<-EOF\n\thi\n\tEOF\n",
        "RUN 2<<EOF cat <<EOF2\na\nEOF\nb\nEOF2\n",
        "RUN <<EOF cat\nhi\n",
        'CMD ["a"] trailing',
        "CMD [1]",
        'RUN --mount=type=cache,target=/x --network=none ["a"]',
        "RUN -- x",
        'RUN --a="b c" x',
        "LABEL a",
        "ENV a=b c",
        "ONBUILD ONBUILD RUN x",
        "RUN a \\ \t\n  b",
        "RUN x\r\nRUN y\r\n",
        "RUN a \\\n\n # c\n b",
        "RUN a\\",
        "RUN a \\\\\nRUN b",
        "\\\nRUN b",
        "FOO bar",
        "",
        "#!/bin/sh\n# escape=`\nRUN a `\n b",
        "# syntax=x\n# syntax=y\nRUN a",
        'COPY <<A <<"B" /x\na\nA\nb\nB\n',
        "RUN 3<<A cat <<''\none\nA\ntwo\nB\n",
        "\ufeffFROM busybox\n",
    ],
)
def test_edge_cases_parse_like_buildkit(text: str) -> None:
    assert ours(text) == theirs(text)
