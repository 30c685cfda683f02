"""Every crash the fuzzers found, replayed through its target's entry point.

Each case feeds the minimised reproducer saved in fuzz/crashes/<target>/ and asserts the
contract (a result, or the module's documented error; no other exception, no hang past the CPU
budget, no expansion bomb). Cases are `xfail(strict=True)` until the fix is merged: then remove
the mark (strict makes a fixed case fail until you do) and the line in fuzz/known_crashes.txt.
"""

from __future__ import annotations

import pytest

from fuzz import harness
from fuzz.targets import load

# A reproducer is a few hundred bytes at most: fixed code answers in milliseconds, so half a
# second of CPU is a hang (and keeps a hang case, while it is still xfail, under a second).
REPLAY_CPU_SECONDS = 0.5


def _crash(target: str, file: str, reason: str) -> object:
    return pytest.param(
        target,
        file,
        marks=pytest.mark.xfail(strict=True, raises=harness.Crash, reason=f"fuzz crash: {reason}"),
        id=f"{target}/{file.removesuffix('.bin')}",
    )


def _fixed(target: str, file: str, reason: str) -> object:
    """A crash whose fix is merged: the reproducer must now meet the contract."""
    return pytest.param(target, file, id=f"{target}/{file.removesuffix('.bin')}")


CRASHES = [
    _fixed(
        "tar_header",
        "ValueError-tarparse-parse-pax-size.bin",
        "image/tarparse.py:parse: int() of a non-numeric PAX `size` record raises ValueError, "
        "not TarFormatError (same for uid/gid/mtime records)",
    ),
    _fixed(
        "tar_header",
        "tar-negative-tarparse-parse-size.bin",
        "image/tarparse.py:parse: a base-256 size field starting with 0xff is negative; the "
        "entry is yielded with size < 0 and the offset moves backwards (issue 8, item 1)",
    ),
    _fixed(
        "tar_header",
        "Hang-tarparse-parse-loop.bin",
        "image/tarparse.py:parse: a nameless entry with a negative base-256 size moves the "
        "offset back to 0 without yielding: endless loop (issue 8, item 1)",
    ),
    _fixed(
        "oci_index",
        "AttributeError-oci-load_oci_layout-annotations.bin",
        "image/oci.py:load_oci_layout (and _Walker.walk, _select_by_name): a descriptor whose "
        '`annotations` is not an object (`"annotations": 6`) raises AttributeError on .get',
    ),
    _fixed(
        "dockerfile",
        "Hang-shell-parse_script-bashlex-quote.bin",
        "dockerfile/shell.py:parse_script -> bashlex: `RUN a'${'` loops forever in "
        "bashlex subst._expandwordinternal (find of the closing quote wraps to 0); "
        "`trimdock lint` never ends",
    ),
    _fixed(
        "run_shell",
        "Hang-shell-parse_script-bashlex-quote.bin",
        "dockerfile/shell.py:parse_script -> bashlex: the script `a'${'` never returns",
    ),
    # Crafted (issue 8, item 10), not reached by the fuzzers in their runs: 1500 nested `[`.
    _fixed(
        "image_config",
        "RecursionError-imageconfig-parse_json_document-crafted.bin",
        "image/imageconfig.py:parse_json_document: deeply nested JSON raises RecursionError "
        "from json.loads (caught: ValueError, UnicodeDecodeError only); also index.json/manifests",
    ),
    _fixed(
        "docker_manifest",
        "RecursionError-docker_archive-read_manifest_json-crafted.bin",
        "image/docker_archive.py:read_manifest_json: deeply nested manifest.json raises "
        "RecursionError from json.loads",
    ),
    _fixed(
        "arg_substitute",
        "oversized-output-substitute-process_word-crafted.bin",
        "dockerfile/substitute.py:process_word (via stages.global_env): ARG defaults that each "
        "repeat the previous one 10 times expand to 10^depth characters (10 MB from 160 bytes)",
    ),
    _fixed(
        "dockerignore_matcher",
        "Hang-pattern-match-globstar-crafted.bin",
        "context/pattern.py:Pattern.match: `**/` x 10 + `zz` against `a/` x 30 backtracks "
        "exponentially in Python re (`(?:.*/)?` x 10)",
    ),
]


@pytest.mark.fuzz
@pytest.mark.parametrize(("target", "file"), CRASHES)
def test_fuzz_crash_meets_the_contract(target: str, file: str) -> None:
    data = (harness.CRASHES_DIR / target / file).read_bytes()
    harness.check(load(target), data, cpu_seconds=REPLAY_CPU_SECONDS)
