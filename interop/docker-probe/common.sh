# Shared by the interop/docker-*/run.sh, dockerode/run.sh and bollard/run.sh
# scripts (sourced, not run): one function that runs every Docker client case
# against a client command through the harness's command line, and compares
# with the folder's expected.txt.
#
#   docker_run NAME TRANSPORT COMMAND   (TRANSPORT: tcp or unix; {host} in COMMAND)
#
# The harness is $HIJACK_HARNESS (default target/release/hijack-harness); the
# clients are installed under $HH_INTEROP_DIR (interop/docker-matrix sets it).
# Reports go to $DOCKER_MATRIX_OUT (NAME.txt, NAME.json). Each run is bounded
# by `timeout` ($DOCKER_MATRIX_RUN_LIMIT seconds, default 600); each case by
# --timeout ($HH_DOCKER_TIMEOUT ms, default 20000). The sourcing script exits
# with the worst status: 0 every run matched expected.txt, 1 a run differed,
# 2 a run could not be made.
docker_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
docker_harness=${HIJACK_HARNESS:-$docker_repo/target/release/hijack-harness}
docker_out=${DOCKER_MATRIX_OUT:-$docker_repo/interop/.run/docker}
mkdir -p "$docker_out"
docker_worst=0
trap 'exit $docker_worst' EXIT

docker_run() {
    local name=$1 transport=$2 command=$3 listen rc=0
    case $transport in
        tcp) listen=127.0.0.1:0 ;;
        unix) listen=unix: ;;
        *) echo "docker_run $name: transport must be tcp or unix, not $transport" >&2
           docker_worst=2; return ;;
    esac
    local expect=()
    if [[ -f "$here/expected.txt" && -z "${HH_DOCKER_NO_EXPECT:-}" ]]; then
        expect=(--expect "$here/expected.txt")
    fi
    timeout --kill-after=10 "${DOCKER_MATRIX_RUN_LIMIT:-600}" \
        "$docker_harness" run --client-cmd "$command" --protocol docker \
        --listen "$listen" --name "$name" --timeout "${HH_DOCKER_TIMEOUT:-20000}" \
        --json "$docker_out/$name.json" "${expect[@]}" \
        >"$docker_out/$name.txt" 2>&1 || rc=$?
    local summary
    summary=$(grep -E '^[0-9]+ results: ' "$docker_out/$name.txt" | tail -1 | sed 's/ in [0-9.]* s$//')
    case $rc in
        0) printf '%-36s %-4s ok        %s\n' "$name" "$transport" "$summary" ;;
        1) printf '%-36s %-4s MISMATCH  %s\n' "$name" "$transport" "$summary"
           sed -n '/^changed from/,$p' "$docker_out/$name.txt" | sed 's/^/    /'
           ((docker_worst < 1)) && docker_worst=1 ;;
        *) printf '%-36s %-4s ERROR     exit %s (see %s)\n' "$name" "$transport" "$rc" "$docker_out/$name.txt"
           tail -3 "$docker_out/$name.txt" | sed 's/^/    /'
           docker_worst=2 ;;
    esac
    return 0
}
