# Shared by benches/schemathesis/run.sh and faults.sh (sourced, not run):
# installs Schemathesis 4.32.5 from PyPI into a venv under target/, builds
# the release binary, and starts/stops `apiconform serve all` on 127.0.0.1
# with the tokens and check exclusions of scripts/schemathesis.sh (so the
# correct server gives Schemathesis 0 failures).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
target_dir=${CARGO_TARGET_DIR:-$root/target}
venv=${SCHEMATHESIS_VENV:-$target_dir/schemathesis-venv}
st_version=4.32.5
st="$venv/bin/schemathesis"
bin="$target_dir/release/apiconform"
# The EnableNow token is the development app's; the mycloud one is the user
# every example of the mycloud spec is made by, so examples' ownerId matches
# the caller [M9] (as in scripts/schemathesis.sh).
en_token=apiconform-schemathesis-enablenow
mc_token=apiconform-schemathesis-mycloud

install_schemathesis() {
    if [[ ! -x "$st" ]] || [[ "$("$st" --version 2>/dev/null)" != *"$st_version"* ]]; then
        echo "installing schemathesis $st_version into $venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$st_version"
    fi
}

build_release() {
    CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} cargo build --release --quiet --bin apiconform "$@"
}

# start_server PORT LOG [--fault NAME]: starts `serve all`, sets $server_pid.
start_server() {
    local port=$1 log=$2
    shift 2
    "$bin" serve all --addr "127.0.0.1:$port" \
        --token "$en_token=en-app-ref-001" \
        --token "$mc_token=auth0|582641749a46021f65565df0" "$@" >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        grep -q "listening on" "$log" && return 0
        kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; return 1; }
        sleep 0.1
    done
    echo "server did not start" >&2
    cat "$log" >&2
    return 1
}

stop_server() {
    if [[ -n "${server_pid:-}" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}

# The Schemathesis runs for one API, one per line: "SPEC TOKEN EXTRA-ARGS...".
# mycloud's createShare runs without positive_data_acceptance: `ownerId`
# must equal the caller [M9], which OpenAPI cannot express (see
# scripts/schemathesis.sh and specs/README.md).
st_runs() {
    case $1 in
    enablenow) echo "specs/enablenow-sharing-v1.yaml $en_token" ;;
    mycloud)
        echo "specs/mycloud-shares-v1.yaml $mc_token --exclude-operation-id createShare"
        echo "specs/mycloud-shares-v1.yaml $mc_token --include-operation-id createShare --exclude-checks positive_data_acceptance"
        ;;
    esac
}
