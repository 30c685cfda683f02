#!/usr/bin/env bash
# Create .venv with Python >= 3.11 and install trimdock into it (editable), with extras "$1".
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
extras=${1:-}
py=${PYTHON:-python3}
if ! command -v "$py" >/dev/null 2>&1 || ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip >/dev/null
  py=python3
fi
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "trimdock needs Python >= 3.11")'
if [ ! -x "$repo/.venv/bin/python" ]; then
  "$py" -m venv "$repo/.venv"
fi
"$repo/.venv/bin/python" -m pip install -q --disable-pip-version-check -U pip 2>&1 | grep -v '^WARNING: Location' || true
spec="$repo"
[ -n "$extras" ] && spec="$repo[$extras]"
"$repo/.venv/bin/python" -m pip install -q --disable-pip-version-check -e "$spec" 2>&1 \
  | grep -v -e '^WARNING: Location' -e BuildBackendWarning || true
"$repo/.venv/bin/python" -c 'import trimdock' || { echo "python-env: install failed" >&2; exit 1; }
