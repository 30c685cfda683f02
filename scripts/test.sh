#!/usr/bin/env bash
# Install everything the tests need (engine, base images, Python deps) and run the full suite,
# with the same lint and type checks CI runs.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
bash scripts/engine-up.sh
bash scripts/base-images.sh
# Headless chromium for the HTML report tests (tests/html).
bash scripts/browser.sh
bash scripts/registry-deps.sh
# Installed above: the browser tests must run, never skip (tests/html/browser.py).
export TRIMDOCK_REQUIRE_BROWSER=1
# rpm tooling and distro-info-data for the scan tests (tests/security).
bash scripts/scan-tools.sh
bash scripts/python-env.sh test,fuzz
export PATH="$repo/.venv/bin:$PATH"
ruff check src tests bench examples fuzz
ruff format --check src tests bench examples fuzz
mypy
pytest "$@"
