#!/usr/bin/env bash
# Side-by-side speed: `apiconform fuzz` vs `schemathesis run` (4.32.5, from
# PyPI in a venv under target/) on the same bundled spec against the same
# `apiconform serve all` (release build) on 127.0.0.1, alternating in one
# run. Both generate 25 examples per operation (--max-examples) with a fixed
# seed and run all their phases (apiconform: examples, positive, negative,
# auth, methods, stateful; Schemathesis: examples, coverage, fuzzing,
# stateful) and all their checks.
#
# Requests are counted the same way for both: each run goes through the
# counting relay examples/count_proxy.rs (a fresh relay and a fresh server
# per run), which counts HTTP/1.1 request lines; wall time is the whole
# command (process start to exit). Prints requests, seconds and requests/s
# per run and the medians' ratio.
#
# Usage: benches/schemathesis/run.sh [RUNS]     (default 3 runs per tool)
# Env:   SCHEMATHESIS_MAX_EXAMPLES (25), SCHEMATHESIS_SEED (1),
#        SCHEMATHESIS_WORKERS (Schemathesis --workers, default 1, its default),
#        APICONFORM_JOBS (apiconform fuzz --jobs; default: its own default),
#        BENCH_SPECS (default "enablenow"; "enablenow mycloud" adds mycloud,
#        where apiconform pins ownerId and Schemathesis runs every check).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

runs=${1:-3}
examples=${SCHEMATHESIS_MAX_EXAMPLES:-25}
seed=${SCHEMATHESIS_SEED:-1}
workers=${SCHEMATHESIS_WORKERS:-1}
specs=${BENCH_SPECS:-enablenow}
port=18961
out="$target_dir/bench-schemathesis"
mkdir -p "$out"
install_schemathesis
build_release --example count_proxy
proxy_bin="$target_dir/release/examples/count_proxy"
work=$(mktemp -d)
proxy_pid=
trap 'stop_server; [[ -z "$proxy_pid" ]] || kill "$proxy_pid" 2>/dev/null; rm -rf "$work"' EXIT

# measure LABEL CMD...: fresh server and relay, runs CMD with $url set, and
# appends "LABEL REQUESTS SECONDS" to $out/runs.txt.
measure() {
    local label=$1
    shift
    start_server "$port" "$work/server.log"
    "$proxy_bin" 127.0.0.1:0 "127.0.0.1:$port" >"$work/proxy.out" &
    proxy_pid=$!
    # Up to 30 s: on a loaded machine the relay took over 5 s to start, and
    # a run against an empty URL counted 0 requests.
    for _ in $(seq 1 600); do [[ -s "$work/proxy.out" ]] && break; sleep 0.05; done
    url=$(head -1 "$work/proxy.out")
    if [[ -z "$url" ]]; then
        echo "the counting relay did not start within 30 s" >&2
        exit 1
    fi
    local start end
    start=$(date +%s.%N)
    "$@" </dev/null >"$work/$label.log" 2>&1 || true
    end=$(date +%s.%N)
    kill -TERM "$proxy_pid"
    wait "$proxy_pid" || true
    proxy_pid=
    stop_server
    local n
    n=$(awk '/^requests / { print $2 }' "$work/proxy.out")
    echo "$label $n $(python3 -c "print(f'{$end - $start:.3f}')")" | tee -a "$out/runs.txt"
    cp "$work/$label.log" "$out/$label.last.log"
}

apiconform_fuzz() { # API
    local spec token pin=()
    read -r spec token _ < <(st_runs "$1" | head -1)
    [[ $1 == mycloud ]] && pin=(--set 'body.ownerId=auth0|582641749a46021f65565df0')
    local jobs=()
    [[ -n "${APICONFORM_JOBS:-}" ]] && jobs=(--jobs "$APICONFORM_JOBS")
    "$bin" fuzz --spec "$spec" --base-url "$url" -H "Authorization: Bearer $token" \
        --max-examples "$examples" --seed "$seed" -q --no-progress "${pin[@]}" "${jobs[@]}"
}

schemathesis_run() { # API
    local spec token
    read -r spec token _ < <(st_runs "$1" | head -1)
    (cd "$work" && "$st" run "$root/$spec" --url "$url" \
        --phases examples,coverage,fuzzing,stateful --max-examples "$examples" \
        --checks all --seed "$seed" --generation-database none --workers "$workers" \
        --header "Authorization: Bearer $token" --no-color)
}

: >"$out/runs.txt"
echo "load average before: $(uptime | sed 's/.*load average: //')"
for api in $specs; do
    for r in $(seq 1 "$runs"); do
        # Alternate which tool goes first, so drifting load hits both alike.
        if ((r % 2)); then
            measure "apiconform-$api-$r" apiconform_fuzz "$api"
            measure "schemathesis-$api-$r" schemathesis_run "$api"
        else
            measure "schemathesis-$api-$r" schemathesis_run "$api"
            measure "apiconform-$api-$r" apiconform_fuzz "$api"
        fi
    done
done
echo "load average after: $(uptime | sed 's/.*load average: //')"

python3 - "$out/runs.txt" "$specs" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
for api in sys.argv[2].split():
    med = {}
    for tool in ("apiconform", "schemathesis"):
        rs = [(int(n), float(s)) for label, n, s in rows if label.startswith(f"{tool}-{api}-")]
        rates = [n / s for n, s in rs]
        med[tool] = statistics.median(rates)
        print(f"{api:9} {tool:12} requests {[n for n, _ in rs]}  seconds {[s for _, s in rs]}  "
              f"req/s {[round(x) for x in rates]}  median {med[tool]:.0f}")
    print(f"{api:9} ratio apiconform / schemathesis (medians): {med['apiconform'] / med['schemathesis']:.1f}x")
PY
