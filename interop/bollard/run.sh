#!/usr/bin/env bash
# Every Docker client case against bollard (install.sh first): attach_container
# and start_exec, their LogOutput stream printed, stdin copied to `input`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../docker-probe/common.sh"
bin="${HH_INTEROP_DIR:-/tmp/hh-interop}/bollard/target/debug/bollard-attach"
docker_run bollard-attach-tcp tcp "$bin {host} attach"
docker_run bollard-exec-unix unix "$bin {host} exec"
