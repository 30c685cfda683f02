#!/usr/bin/env bash
# Install (if missing) and start (if not answering) a real Docker Engine from Debian's packages.
# Idempotent: a daemon that already answers `docker info` is reused.
set -euo pipefail

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v skopeo >/dev/null 2>&1 || need_pkgs+=(skopeo)
command -v umoci >/dev/null 2>&1 || need_pkgs+=(umoci)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
command -v zstd >/dev/null 2>&1 || need_pkgs+=(zstd)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  echo "engine-up: installing ${need_pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi

echo "engine-up: starting dockerd" >&2
log=/var/log/dockerd.log
# containerd is started by dockerd itself when no system containerd answers.
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    echo "engine-up: dockerd ready" >&2
    exit 0
  fi
  sleep 0.5
done
echo "engine-up: dockerd did not answer within 60 s; see $log" >&2
tail -n 20 "$log" >&2 || true
exit 1
