#!/usr/bin/env bash
# Create the local base images that examples and tests use, without a registry.
# Cached: an image the engine already has is not rebuilt. The debootstrap rootfs is kept
# as a tarball under $TRIMDOCK_CACHE so a restarted engine re-imports it in seconds.
set -euo pipefail
cache=${TRIMDOCK_CACHE:-/var/cache/trimdock}
mkdir -p "$cache"

have() { docker image inspect "$1" >/dev/null 2>&1; }

if ! have busybox:latest; then
  dir=$(mktemp -d)
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc" "$dir/root"
  cp /bin/busybox "$dir/bin/busybox"
  for applet in sh ash ls cat cp mv rm mkdir chmod chown ln echo touch dd head tail sed grep \
      find tar gzip gunzip wc sleep true false id env test printf sort uniq du stat; do
    ln -s busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  chmod 1777 "$dir/tmp"
  tar --numeric-owner -C "$dir" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - busybox:latest >/dev/null
  rm -rf "$dir"
  echo "base-images: busybox:latest imported" >&2
fi
# Examples pin the base by version, as they should: tag the same image with busybox's own version.
bb_version=$( (/bin/busybox 2>&1 || true) | sed -n '1s/^BusyBox v\([0-9][0-9.]*\).*/\1/p')
if [ -n "$bb_version" ] && ! have "busybox:${bb_version%.*}"; then
  docker tag busybox:latest "busybox:$bb_version"
  docker tag busybox:latest "busybox:${bb_version%.*}"
fi

if ! have debian:bookworm-slim; then
  tarball="$cache/debian-bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    dir=$(mktemp -d)
    echo "base-images: debootstrap bookworm (about a minute)" >&2
    debootstrap --variant=minbase bookworm "$dir" >"$cache/debootstrap.log" 2>&1 || {
      echo "base-images: debootstrap failed, see $cache/debootstrap.log" >&2; exit 1; }
    # Slim-style trimming, as the official slim images do.
    rm -rf "$dir/var/lib/apt/lists/"* "$dir/var/cache/apt/"*.bin "$dir/var/cache/apt/archives/"*.deb \
      "$dir/usr/share/doc/"* "$dir/usr/share/man/"* "$dir/usr/share/info/"*
    tar --numeric-owner -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  docker import -c 'CMD ["bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" debian:bookworm-slim >/dev/null
  docker tag debian:bookworm-slim debian:bookworm
  docker tag debian:bookworm-slim debian:12-slim
  echo "base-images: debian:bookworm-slim imported" >&2
fi
