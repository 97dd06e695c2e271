#!/usr/bin/env bash
# Every Docker client case against docker-py (install.sh first), through
# attach.py: APIClient.attach_socket / exec_start(socket=True) and
# docker.utils.socket.frames_iter, the SDK's own interactive path.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../docker-probe/common.sh"
python="${HH_INTEROP_DIR:-/tmp/hh-interop}/docker-py/venv/bin/python"
docker_run docker-py-attach-tcp tcp "$python $here/attach.py {host} attach"
docker_run docker-py-attach-unix unix "$python $here/attach.py {host} attach"
docker_run docker-py-exec-tcp tcp "$python $here/attach.py {host} exec"
