#!/usr/bin/env bash
# Every Docker client case against dockerode (install.sh first), through
# attach.js: container.attach / exec.start with hijack:true, modem.demuxStream.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../docker-probe/common.sh"
modules="${HH_INTEROP_DIR:-/tmp/hh-interop}/dockerode/node_modules"
docker_run dockerode-attach-unix unix "NODE_PATH=$modules node $here/attach.js {host} attach"
docker_run dockerode-exec-tcp tcp "NODE_PATH=$modules node $here/attach.js {host} exec"
