#!/usr/bin/env bash
# Builds the Python sandbox image from Debian packages, with no container registry:
# debootstrap a minimal bookworm root filesystem, trim it, and `docker import` it.
# Equivalent to the Dockerfile beside this script; for air-gapped hosts and CI.
#
#   build-offline.sh [image-name]          (default: edgeswarm/python:latest)
#
# Needs root, debootstrap and a reachable Debian mirror (debootstrap's default,
# or DEBIAN_MIRROR).
set -euo pipefail

image="${1:-edgeswarm/python:latest}"
suite="${DEBIAN_SUITE:-bookworm}"

command -v debootstrap >/dev/null || { echo "build-offline: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
command -v docker >/dev/null || { echo "build-offline: the docker client is not installed" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "build-offline: debootstrap needs root" >&2; exit 1; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT

echo "build-offline: debootstrap $suite into $root (about a minute)"
# shellcheck disable=SC2086 # the mirror is optional and must vanish when empty
debootstrap --variant=minbase --include=python3 "$suite" "$root" ${DEBIAN_MIRROR:-} >"$root.log" 2>&1 \
  || { tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"

# Trim what a sandbox never needs; keep the interpreter and its standard library.
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/usr/share/doc \
  "$root"/usr/share/man "$root"/usr/share/locale "$root"/usr/share/info "$root"/var/log/*
mkdir -p "$root/workspace"

echo "build-offline: importing as $image"
tar -C "$root" -c . | docker import \
  --change 'USER 65534:65534' \
  --change 'WORKDIR /workspace' \
  --change 'CMD ["python3"]' \
  --change 'LABEL org.opencontainers.image.title=edgeswarm-python' \
  - "$image" >/dev/null
echo "build-offline: built $image"
