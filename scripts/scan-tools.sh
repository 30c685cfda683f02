#!/usr/bin/env bash
# rpm and rpmbuild for the scan tests that build a real rpmdb.sqlite (tests/security), and
# distro-info-data for the EOL table check (idempotent).
set -euo pipefail
if command -v rpmbuild >/dev/null 2>&1 && [ -f /usr/share/distro-info/debian.csv ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends rpm distro-info-data >/dev/null
