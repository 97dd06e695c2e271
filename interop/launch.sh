# Sourced by every peer's `start`: where things live, and `launch`, which starts one
# program in the background and prints its PID (interop/run stops it by that PID).
#
#   INTEROP_BUILD  installed and built things (default interop/.build): the Python
#                  venv, the Go binary; hyper's target/ and node_modules stay in
#                  their folders
#   INTEROP_RUN    logs and runtime files of this run (default interop/.run)

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
INTEROP_BUILD=${INTEROP_BUILD:-$INTEROP_DIR/.build}
INTEROP_RUN=${INTEROP_RUN:-$INTEROP_DIR/.run}
mkdir -p "$INTEROP_RUN"

# launch NAME PROGRAM ARGS...: PROGRAM's output goes to $INTEROP_RUN/NAME.log;
# its stdin and stdout are not the caller's, so `$(start)` returns at once.
launch() {
    local name=$1
    shift
    "$@" </dev/null >>"$INTEROP_RUN/$name.log" 2>&1 &
    echo $!
}
