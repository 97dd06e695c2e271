#!/usr/bin/env bash
# dockerode (npm) under $HH_INTEROP_DIR; attach.js finds it through NODE_PATH.
set -euo pipefail
dest="${HH_INTEROP_DIR:-/tmp/hh-interop}/dockerode"
mkdir -p "$dest"
npm install --silent --prefix "$dest" dockerode@5.0.1
node -e 'console.log("dockerode", require(process.argv[1] + "/node_modules/dockerode/package.json").version)' "$dest"
