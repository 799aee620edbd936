#!/usr/bin/env bash
# Builds the Python sandbox image from Debian packages, with no container registry:
# debootstrap a minimal bookworm root filesystem with packages.txt, finish it
# with finish.sh, and `docker import` it. The same image as the Dockerfile
# beside this script; for air-gapped hosts and CI.
#
#   build-offline.sh [image-name]          (default: edgeswarm/python:latest)
#   build-offline.sh --minbase image-name  only the bare minbase root, as a base
#                                          for `docker build --build-arg BASE=...`
#
# Needs root, debootstrap and a reachable Debian mirror (debootstrap's default,
# or DEBIAN_MIRROR).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

minbase=0
if [ "${1:-}" = "--minbase" ]; then minbase=1; shift; fi
image="${1:-edgeswarm/python:latest}"
suite="${DEBIAN_SUITE:-bookworm}"

command -v debootstrap >/dev/null || { echo "build-offline: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
command -v docker >/dev/null || { echo "build-offline: the docker client is not installed" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "build-offline: debootstrap needs root" >&2; exit 1; }

include=""
if [ "$minbase" -eq 0 ]; then
  include="$(sed -e 's/#.*//' "$here/packages.txt" | tr -s ' \t\n' ',' | sed -e 's/^,//' -e 's/,$//')"
  [ -n "$include" ] || { echo "build-offline: packages.txt names no package" >&2; exit 1; }
fi

root="$(mktemp -d)"
trap 'rm -rf "$root" "$root.log"' EXIT

echo "build-offline: debootstrap $suite into $root (a few minutes with the data packages)"
# shellcheck disable=SC2086 # the mirror is optional and must vanish when empty
debootstrap --variant=minbase ${include:+--include="$include"} "$suite" "$root" ${DEBIAN_MIRROR:-} >"$root.log" 2>&1 \
  || { tail -20 "$root.log" >&2; exit 1; }

if [ "$minbase" -eq 1 ]; then
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$image" >/dev/null
  echo "build-offline: built the minbase $image"
  exit 0
fi

mkdir -p "$root/tmp/edgeswarm-image"
cp "$here/finish.sh" "$here/packages.txt" "$root/tmp/edgeswarm-image/"
chroot "$root" /bin/sh /tmp/edgeswarm-image/finish.sh
rm -rf "$root/tmp/edgeswarm-image"

echo "build-offline: importing as $image"
tar -C "$root" -c . | docker import \
  --change 'USER 65534:65534' \
  --change 'WORKDIR /workspace' \
  --change 'CMD ["python3"]' \
  --change 'LABEL org.opencontainers.image.title=edgeswarm-python' \
  --change "LABEL edgeswarm.image.recipe=$(bash "$here/recipe.sh")" \
  - "$image" >/dev/null
echo "build-offline: built $image"
