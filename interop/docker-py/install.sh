#!/usr/bin/env bash
# docker-py (PyPI `docker`) in a virtual environment under $HH_INTEROP_DIR.
set -euo pipefail
dest="${HH_INTEROP_DIR:-/tmp/hh-interop}/docker-py"
python3 -m venv "$dest/venv"
"$dest/venv/bin/pip" install --quiet 'docker==7.2.0'
"$dest/venv/bin/python" -c 'import docker; print("docker-py", docker.__version__)'
