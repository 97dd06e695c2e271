#!/usr/bin/env bash
# The Docker CLI from Debian's docker.io package, without installing the package
# (no daemon, no service, no group): the .deb is downloaded and only
# usr/bin/docker is extracted, into $HH_INTEROP_DIR (default /tmp/hh-interop).
set -euo pipefail
dest="${HH_INTEROP_DIR:-/tmp/hh-interop}/docker-cli"
mkdir -p "$dest"
cd "$dest"
if ! apt-cache show docker.io >/dev/null 2>&1; then
    apt-get update -qq
fi
rm -f docker.io_*.deb
apt-get download docker.io
dpkg-deb -x docker.io_*.deb root
"$dest/root/usr/bin/docker" --version
