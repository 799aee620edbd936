#!/usr/bin/env bash
# Builds the agent image (deploy/agent/Dockerfile) with no network inside the
# build: it stages the context on this host, then runs `docker build --network
# none`, so no registry, npm or apt is reached from inside the build.
#
#   deploy/agent/build.sh [image-name]       (default: edgeswarm/agent:latest)
#
#   BASE=debian:bookworm-slim   the base image; by default the debootstrap
#                               minbase edgeswarm/debian-minbase:bookworm, which
#                               is imported first (build-offline.sh --minbase,
#                               root and debootstrap) when it is missing
#
# Why the context is staged and what makes it reproducible:
# - Node: the binary comes from the npm package node-linux-<arch> (the package
#   `node` only downloads it in an install script, which a build without network
#   cannot run). Its version and sha512 integrity are pinned below and checked
#   here, so every build gets the same bytes; npm serves it from its cache when
#   it has it, else from the registry, on this host, not in the build.
# - Dependencies: `npm ci --omit=dev --ignore-scripts` for the agent's workspace
#   only, against the repository's package-lock.json (versions and integrity
#   pinned there), into the staged copy. Install scripts are skipped: the only
#   ones are optional native speed-ups of ssh2 (for docker over ssh), unused.
#   This runs on the host with the host's npm because `npm ci` inside the build
#   would need the registry from inside the build, and copying the host's
#   node_modules would bring the dev tools (wrangler, vitest) and any local edits.
# - The base is the one thing that is not byte-for-byte reproducible: a
#   debootstrap minbase is whatever bookworm holds on the day it is made.
# The docker layer cache keeps a rebuild of unchanged inputs to seconds: COPY
# compares file contents, not times.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
image="${1:-edgeswarm/agent:latest}"
base="${BASE:-edgeswarm/debian-minbase:bookworm}"

NODE_VERSION=22.23.3
case "$(uname -m)" in
  x86_64) node_arch=x64; node_integrity="sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==" ;;
  aarch64) node_arch=arm64; node_integrity="sha512-l3DAHZreylo+p9QXDtsOrjG2JXJqVzYXnAGmIQNOUNARcMppTO2cmewVQP+36tjJnSE+dzpMNtgW+c3oiDvXtA==" ;;
  *) echo "agent image: no Node build is pinned for $(uname -m)" >&2; exit 1 ;;
esac

command -v docker >/dev/null || { echo "agent image: the docker client is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "agent image: npm is needed on this host to stage the build" >&2; exit 1; }

if ! docker image inspect "$base" >/dev/null 2>&1; then
  if [ "$base" != "edgeswarm/debian-minbase:bookworm" ]; then
    echo "agent image: the base $base is not on this host (docker pull it, or leave BASE unset)" >&2
    exit 1
  fi
  echo "agent image: importing the Debian minbase $base (once)"
  bash "$root/sandbox-agent/images/python/build-offline.sh" --minbase "$base"
fi

# The recipe: a hash of every input, put in the image's label, so one can tell
# which sources an image was built from.
recipe="$(
  cd "$root"
  {
    echo "node-linux-$node_arch@$NODE_VERSION $node_integrity $base"
    find deploy/agent/Dockerfile deploy/agent/build.sh package.json package-lock.json \
      shared/package.json shared/src sandbox-agent/package.json sandbox-agent/bin sandbox-agent/src \
      -type f ! -name '*.test.ts' | LC_ALL=C sort | xargs sha256sum
  } | sha256sum | cut -c1-16
)"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/node" "$stage/app"

# --- Node ---------------------------------------------------------------------
(cd "$stage" && npm pack --silent --prefer-offline "node-linux-$node_arch@$NODE_VERSION" >/dev/null)
tarball="$stage/node-linux-$node_arch-$NODE_VERSION.tgz"
got="sha512-$(node -e 'process.stdout.write(require("node:crypto").createHash("sha512").update(require("node:fs").readFileSync(process.argv[1])).digest("base64"))' "$tarball")"
if [ "$got" != "$node_integrity" ]; then
  echo "agent image: node-linux-$node_arch@$NODE_VERSION has integrity $got, not the pinned $node_integrity" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$stage/node" --strip-components=1 package/bin/node package/LICENSE
rm "$tarball"

# --- the agent and its production dependencies ----------------------------------
# npm ci checks the lockfile against every workspace's package.json, so each is
# staged; only shared/ and sandbox-agent/ keep their sources.
(
  cd "$root"
  cp package.json package-lock.json "$stage/app/"
  for workspace in $(node -p 'require("./package.json").workspaces.join(" ")'); do
    mkdir -p "$stage/app/$workspace"
    cp "$workspace/package.json" "$stage/app/$workspace/"
  done
  cp -r shared/src "$stage/app/shared/"
  cp -r sandbox-agent/bin sandbox-agent/src "$stage/app/sandbox-agent/"
)
find "$stage/app" -name '*.test.ts' -delete
(
  cd "$stage/app"
  npm ci --silent --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund \
    --workspace=@edgeswarm/sandbox-agent >/dev/null
)
# Only the agent's side stays: the other workspaces were there for npm ci's check.
(
  cd "$root"
  for workspace in $(node -p 'require("./package.json").workspaces.join(" ")'); do
    case "$workspace" in shared | sandbox-agent) ;; *) rm -rf "${stage:?}/app/$workspace" ;; esac
  done
)
find "$stage/app/node_modules" -xtype l -delete
cp "$here/Dockerfile" "$stage/Dockerfile"

# --- build, without network ------------------------------------------------------
echo "agent image: building $image (recipe $recipe)"
docker build --network none -q --build-arg BASE="$base" --build-arg RECIPE="$recipe" -t "$image" "$stage" >/dev/null
# Earlier builds of the agent that lost their tag to this one.
docker image prune -f --filter label=org.opencontainers.image.title=edgeswarm-agent >/dev/null
echo "agent image: built $image"
