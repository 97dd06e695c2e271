#!/usr/bin/env bash
# Every Docker client case against the Debian docker CLI (install.sh first):
# attach over TCP and a Unix socket (a TTY case's stdin is a raw terminal the
# harness holds), attach --no-stdin (output only), exec -i and run -i.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../docker-probe/common.sh"
bin="${HH_INTEROP_DIR:-/tmp/hh-interop}/docker-cli/root/usr/bin/docker"
config=$(mktemp -d)   # an empty DOCKER_CONFIG: nothing of the user's is read
trap 'rm -rf "$config"; exit $docker_worst' EXIT
docker="DOCKER_CONFIG=$config $bin"
docker_run docker-cli-attach-tcp tcp "$docker -H {host} attach c1"
docker_run docker-cli-attach-unix unix "$docker -H {host} attach c1"
docker_run docker-cli-attach-no-stdin-unix unix "$docker -H {host} attach --no-stdin c1"
docker_run docker-cli-exec-tcp tcp "$docker -H {host} exec -i c1 cat"
docker_run docker-cli-run-unix unix "$docker -H {host} run -i busybox cat"
