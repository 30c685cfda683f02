#!/usr/bin/env bash
# Install trimdock and a real Docker Engine, build the shipped example images, and analyse them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
bash scripts/engine-up.sh
bash scripts/base-images.sh
bash scripts/python-env.sh
export PATH="$repo/.venv/bin:$PATH"
python3 examples/prepare.py

# A gate failure (exit 1) is part of the demo; bad input (exit 2) is not.
show() {
  echo
  echo "\$ trimdock $*"
  local rc=0
  trimdock "$@" || rc=$?
  if [ "$rc" -ge 2 ]; then
    echo "demo: 'trimdock $*' failed with exit code $rc" >&2
    exit "$rc"
  fi
}

for example in build-context archive; do
  for variant in v1 v2 v3; do
    tag="trimdock-example/$example:$variant"
    # The engine's legacy builder prints a deprecation notice on every build: show it only on failure.
    if ! log=$(DOCKER_BUILDKIT=0 docker build -q -t "$tag" "examples/$example/$variant" 2>&1); then
      echo "$log" >&2
      exit 1
    fi
  done
done
echo "demo: built trimdock-example/{build-context,archive}:{v1,v2,v3}"

for example in build-context archive; do
  for variant in v1 v2 v3; do
    show layers "trimdock-example/$example:$variant" --top 3
  done
done
if trimdock diff --help >/dev/null 2>&1; then
  # A naive and a fixed apt install (needs Debian's package registry): what a fix wins.
  for variant in v1 v2; do
    if ! log=$(DOCKER_BUILDKIT=0 docker build -q -t "trimdock-example/apt:$variant" "examples/apt/$variant" 2>&1); then
      echo "$log" >&2
      exit 1
    fi
  done
  show layers trimdock-example/apt:v1 --top 3
  show diff trimdock-example/apt:v1 trimdock-example/apt:v2 --top 5
fi
if trimdock lint --help >/dev/null 2>&1; then
  show lint examples/build-context/v1/Dockerfile examples/archive/v1/Dockerfile
  show lint examples/build-context/v3/Dockerfile examples/archive/v3/Dockerfile
fi
if trimdock context --help >/dev/null 2>&1; then
  show context examples/build-context/v1
  show context examples/build-context/v3
fi
if trimdock df --help >/dev/null 2>&1; then
  show df
fi
