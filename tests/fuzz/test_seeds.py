"""Every committed seed satisfies its target's contract, and the corpus stays small."""

from __future__ import annotations

import pytest

from fuzz import harness
from fuzz.targets import NAMES, load

# Committed seeds stay small (issue 8: generated at run time otherwise).
MAX_CORPUS_BYTES = 1 << 20


@pytest.mark.fuzz
@pytest.mark.parametrize("name", NAMES)
def test_every_seed_meets_the_contract(name: str) -> None:
    target = load(name)
    seeds = harness.seeds(name)
    assert seeds, f"no seeds for {name}: run python -m fuzz.seed"
    for seed in seeds:
        harness.check(target, seed)


@pytest.mark.fuzz
def test_the_committed_corpus_is_small() -> None:
    total = sum(p.stat().st_size for p in harness.CORPUS_DIR.rglob("*") if p.is_file())
    assert total < MAX_CORPUS_BYTES


def test_digest_tokens_name_later_documents() -> None:
    docs = harness.split_documents(b"#1 #0 #2" + harness.SEPARATOR + b"x")
    assert docs[0] == (b"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 #0 #2")
    assert docs[1] == b"x"


def test_a_foreign_exception_is_a_crash_with_its_signature() -> None:
    def entry(data: bytes) -> None:
        raise KeyError(data)

    target = harness.Target("t", entry, (ValueError,), "raises KeyError")
    with pytest.raises(harness.Crash) as caught:
        harness.check(target, b"x")
    assert caught.value.signature == "KeyError@outside-trimdock"


def test_a_cpu_hog_is_a_hang() -> None:
    def entry(_data: bytes) -> None:
        while True:
            pass

    target = harness.Target("t", entry, (), "spins")
    with harness.cpu_budget(0.2), pytest.raises(harness.Hang):
        target.entry(b"")
