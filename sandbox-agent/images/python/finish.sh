#!/bin/sh
# Finishes the Python sandbox image once its packages are installed. Runs as
# root inside the image's root filesystem: in the Dockerfile's RUN, and under
# chroot in build-offline.sh, so both images end the same.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"

# Debian's python3-scipy depends on python3-pythran, a compiler that scipy does
# not use at run time, and it drags in gcc, g++, boost's headers and Python's
# development files (about 700 MB). An empty package of the same name stands in
# for it; then apt removes whatever no package of packages.txt, nor the base
# system, needs. The package database stays consistent, so apt-get still works
# in an image built FROM this one.
if dpkg-query -W -f '${Status}' python3-pythran 2>/dev/null | grep -q 'ok installed'; then
  stub="$(mktemp -d)"
  mkdir -p "$stub/DEBIAN"
  cat >"$stub/DEBIAN/control" <<CONTROL
Package: python3-pythran
Version: $(dpkg-query -W -f '${Version}' python3-pythran)+edgeswarm.empty
Architecture: all
Maintainer: edgeswarm <edgeswarm@localhost>
Description: empty stand-in for the pythran compiler, which scipy needs only to build
CONTROL
  dpkg-deb --build "$stub" "$stub.deb" >/dev/null
  dpkg -i "$stub.deb" >/dev/null
  rm -rf "$stub" "$stub.deb"
fi
# What stays: the base system (priority required), apt, and packages.txt.
dpkg-query -W -f '${Package}\n' | xargs apt-mark auto >/dev/null
{ dpkg-query -W -f '${Package} ${Priority}\n' | awk '$2 == "required" { print $1 }'
  echo apt
  sed -e 's/#.*//' "$here/packages.txt"; } | xargs apt-mark manual >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get autoremove --purge -y -qq \
  -o APT::AutoRemove::RecommendsImportant=false -o APT::AutoRemove::SuggestsImportant=false -o Dpkg::Use-Pty=0 >/dev/null

# Plots: Agg, which writes files and needs no display. Debian's /etc/matplotlibrc
# names TkAgg, which fails in a sandbox with no display. The file, not MPLBACKEND in
# the image's environment: the runner gives programs an environment of its own.
if [ -f /etc/matplotlibrc ]; then
  sed -i 's/^#*backend *:.*/backend: Agg/' /etc/matplotlibrc
  grep -q '^backend: Agg$' /etc/matplotlibrc || { echo "finish.sh: could not set the Agg backend" >&2; exit 1; }
fi

# matplotlib builds its font list on first use (about 0.7 s) in its cache
# directory, which must be writable; in a sandbox that is MPLCONFIGDIR=/tmp/matplotlib,
# fresh in every container. Build the list once here; the runner copies it
# into place before the program starts.
if python3 -c 'import matplotlib' 2>/dev/null; then
  cache=/usr/local/share/edgeswarm/matplotlib
  mkdir -p "$cache"
  MPLCONFIGDIR="$cache" python3 -c 'import matplotlib.font_manager'
  ls "$cache"/fontlist-*.json >/dev/null
  chmod -R a+rX /usr/local/share/edgeswarm
fi

# What a sandbox never needs: documentation, caches, and the packages' own test
# suites (about 160 MB; numpy.testing, pandas._testing and the like stay).
find /usr/lib/python3/dist-packages -depth -type d -name tests -exec rm -rf {} +
rm -rf /var/cache/apt/* /var/lib/apt/lists/* /usr/share/doc /usr/share/man /usr/share/locale \
  /usr/share/info /var/log/* /root/.cache
mkdir -p /workspace
