# Shared by the interop/docker-*/run.sh scripts (sourced, not run): one function
# that runs every Docker client case against a client command, through the
# harness's real-client test, and checks the folder's expected.txt when it exists.
#
#   docker_run NAME TRANSPORT COMMAND...   (TRANSPORT: tcp or unix; {host} in COMMAND)
#
# Until `hijack-harness run --protocol docker --client-cmd` drives Docker
# clients (issue 18, phase 2), the same run is:
#   cargo test --test docker_clients -- --ignored   with HH_DOCKER_* set.
# Set HH_DOCKER_CASES=TEXT to run only the cases whose ID contains TEXT.
docker_run() {
    local name=$1 transport=$2
    shift 2
    local expect=()
    if [[ -f "$here/expected.txt" && -z "${HH_DOCKER_NO_EXPECT:-}" ]]; then
        expect=(HH_DOCKER_EXPECT="$here/expected.txt")
    fi
    echo "== $name ($transport): $*"
    env HH_DOCKER_CLIENT="$*" HH_DOCKER_NAME="$name" HH_DOCKER_TRANSPORT="$transport" "${expect[@]}" \
        cargo test --quiet --manifest-path "$here/../../Cargo.toml" --test docker_clients -- \
        --ignored --nocapture
}
