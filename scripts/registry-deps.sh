#!/usr/bin/env bash
# Tools for the registry tests (tests/image/test_registry.py): Debian's docker-registry (the
# distribution registry, started on loopback by the tests), apache2-utils (htpasswd, for the
# basic-auth registry) and skopeo (pushes test images).
set -euo pipefail
missing=()
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v htpasswd >/dev/null || missing+=(apache2-utils)
command -v skopeo >/dev/null || missing+=(skopeo)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
fi
# The package starts a system registry on :5000; the tests run their own on free ports.
if command -v systemctl >/dev/null && systemctl is-active -q docker-registry 2>/dev/null; then
  systemctl stop docker-registry || true
fi
