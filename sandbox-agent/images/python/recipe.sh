#!/usr/bin/env bash
# Prints the recipe of the Python sandbox image: a hash of every file that
# decides what the image holds. Both builds label the image with it
# (edgeswarm.image.recipe), and .ci/run and npm start rebuild an image whose
# label differs, so a changed package list reaches machines that have the old one.
set -euo pipefail
cd "$(dirname "$0")"
cat packages.txt finish.sh Dockerfile build-offline.sh | sha256sum | cut -c1-16
