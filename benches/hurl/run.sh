#!/usr/bin/env bash
# Side-by-side throughput: apiconform vs Hurl 8.0.1 on the same create-then-get
# workload (benches/hurl/create-get.{yaml,hurl}) against the same storage-free
# target (examples/fast_target.rs) on 127.0.0.1, timed by hyperfine in one run.
#
#   benches/hurl/run.sh [REPEAT] [RUNS]
#
# REPEAT workload repetitions per run (2 requests each; default 3000, i.e.
# 6,000 requests), RUNS hyperfine runs per command (default 5, alternating
# order, medians reported). Rows: both tools at 1 job, each at its best
# concurrency, and 1 job with the target and both tools on one CPU (no
# cross-CPU wake-ups; see the comment at that row). Installs what it needs: Hurl from crates.io (with
# the Debian packages it builds against) and hyperfine from Debian.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPEAT="${1:-3000}"
RUNS="${2:-5}"
JOBS_FULL="${APICONFORM_BENCH_JOBS:-$(( $(nproc) * 4 ))}"
OUT="target/bench-hurl"
mkdir -p "$OUT"

need_apt() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}
need_apt hyperfine libcurl4-openssl-dev libxml2-dev libclang-dev pkg-config
if ! command -v hurl >/dev/null || ! hurl --version | grep -q '^hurl 8.0.1'; then
  cargo install hurl --version 8.0.1 --locked
fi
export PATH="$HOME/.cargo/bin:$PATH"

cargo build --release --quiet --bin apiconform --example fast_target
BIN="target/release/apiconform"

target/release/examples/fast_target 127.0.0.1:0 > "$OUT/target.url" &
TARGET_PID=$!
trap 'kill $TARGET_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$OUT/target.url" ] && break; sleep 0.1; done
BASE="$(head -1 "$OUT/target.url")"
echo "target: $BASE   workload: $REPEAT x (create + get) = $(( REPEAT * 2 )) requests per run"

# Sanity: both tools pass the workload once before timing.
"$BIN" run benches/hurl/create-get.yaml --base-url "$BASE" -q --no-progress
hurl --test --variable "base=$BASE" benches/hurl/create-get.hurl >/dev/null 2>&1

apic() { echo "$BIN run benches/hurl/create-get.yaml --base-url $BASE --repeat $REPEAT --jobs $1 -q --no-progress"; }
hurl_cmd() { echo "hurl --test --repeat $REPEAT $1 --variable base=$BASE benches/hurl/create-get.hurl"; }

run_pair() { # label apiconform-cmd hurl-cmd
  local label="$1"
  hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/$label.json" \
    -n "apiconform ($label)" "$2" -n "hurl ($label)" "$3" >/dev/null
  python3 - "$OUT/$label.json" "$label" "$REPEAT" <<'PY'
import json, sys
data = json.load(open(sys.argv[1])); label = sys.argv[2]; reqs = 2 * int(sys.argv[3])
med = {r["command"].split(" ")[0]: r["median"] for r in data["results"]}
a, h = med["apiconform"], med["hurl"]
print(f"{label:>6}: apiconform {a*1000:8.1f} ms ({reqs/a:8.0f} req/s)  "
      f"hurl {h*1000:8.1f} ms ({reqs/h:8.0f} req/s)  ratio {h/a:5.2f}x")
PY
}

# Each tool at 1 job, then each at its best setting: Hurl's default jobs
# (one per core) and apiconform at 4x cores (APICONFORM_BENCH_JOBS overrides).
run_pair "1-job" "$(apic 1)" "$(hurl_cmd '--jobs 1')"
run_pair "full" "$(apic "$JOBS_FULL")" "$(hurl_cmd '')"

# The same 1-job pair with the target and each tool on one CPU. At one job
# each request wakes the other process; on a VM a wake-up on another (idle)
# vCPU costs an inter-processor interrupt, which dominates a fast request
# path. On one CPU a wake-up is a plain context switch, so this row shows
# the tools' own request paths. Both tools get the same treatment.
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then
  CPU="$(taskset -pc "$TARGET_PID" | sed 's/.*: //; s/[-,].*//')"
  taskset -pc "$CPU" "$TARGET_PID" >/dev/null
  run_pair "1-cpu" "taskset -c $CPU $(apic 1)" "taskset -c $CPU $(hurl_cmd '--jobs 1')"
fi
