"""One module per fuzz target; each defines `TARGET`. Import lazily (atheris instruments the
trimdock modules a target imports, so the import must happen inside its instrumentation)."""

from __future__ import annotations

import importlib

from fuzz.harness import Target

NAMES = (
    "tar_header",
    "docker_manifest",
    "oci_index",
    "image_config",
    "dockerfile",
    "run_shell",
    "arg_substitute",
    "dockerignore_reader",
    "dockerignore_matcher",
)


def load(name: str) -> Target:
    if name not in NAMES:
        raise KeyError(f"unknown fuzz target {name!r} (known: {', '.join(NAMES)})")
    target: Target = importlib.import_module(f"fuzz.targets.{name}").TARGET
    return target
