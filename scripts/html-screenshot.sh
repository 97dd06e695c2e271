#!/usr/bin/env bash
# Renders an HTML report in headless Chromium and saves a screenshot, to check
# that the report looks right without a desktop:
#
#   scripts/html-screenshot.sh REPORT.html OUT.png [WIDTHxHEIGHT]
#
# With no REPORT.html, it first writes the reports of a real in-memory suite run
# (the reference and every mutant) to target/report-example/ and shoots that.
#
# Needs Chromium (Debian: apt-get install -y chromium). The flags keep it off the
# network and out of the user's profile: a fresh --user-data-dir per run, no
# sandbox (containers often lack the namespaces it needs), no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ge 1 ]]; then
    report=$(realpath "$1")
    out=${2:-${report%.html}.png}
else
    cargo run -q --example report -- target/report-example >/dev/null
    report=$(realpath target/report-example/report.html)
    out=target/report-example/report.png
fi
size=${3:-1200,1600}
size=${size/x/,}

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z "$browser" ]]; then
    echo "html-screenshot: no chromium found (apt-get install -y chromium)" >&2
    exit 2
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars \
    --screenshot="$(realpath -m "$out")" --window-size="$size" \
    "file://$report" 2>/dev/null
echo "$out"
