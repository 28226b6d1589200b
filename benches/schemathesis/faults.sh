#!/usr/bin/env bash
# Which reference-server faults Schemathesis 4.32.5 catches with the bundled
# specs, beside what apiconform's generation alone catches
# (tests/generate_strength.rs). Same example count (25 per operation), all
# of Schemathesis' phases (examples, coverage, fuzzing, stateful), every
# check but the exclusions of scripts/schemathesis.sh, a fixed seed.
#
# The correct server runs first as the baseline (it must give 0 failures);
# a fault counts as caught when its run reports a failure (check title x
# operation, from Schemathesis' JSON report) that the baseline does not.
# Each Schemathesis run is bounded by `timeout` (a run cut short counts
# only the failures it had reported, and is marked).
#
# Usage: benches/schemathesis/faults.sh [FAULT...]   (default: every fault)
# Env:   SCHEMATHESIS_SEED (default 1), SCHEMATHESIS_PORT (default 18941),
#        SCHEMATHESIS_MAX_EXAMPLES (default 25), SCHEMATHESIS_TIMEOUT
#        (seconds per run, default 120), SCHEMATHESIS_PARALLEL (faults run
#        at once, default 1; counts do not depend on it).
# Writes target/schemathesis-faults/{results.tsv,table.md} and prints the table.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

seed=${SCHEMATHESIS_SEED:-1}
port=${SCHEMATHESIS_PORT:-18941}
examples=${SCHEMATHESIS_MAX_EXAMPLES:-25}
limit=${SCHEMATHESIS_TIMEOUT:-120}
out="$target_dir/schemathesis-faults"
mkdir -p "$out"
install_schemathesis
build_release
parallel=${SCHEMATHESIS_PARALLEL:-1}
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT

# Prints "TITLE<TAB>OPERATION" per failure of a JSON report (none when absent).
failure_keys() {
    python3 - "$1" <<'PY'
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(0)
for f in doc.get("failures", []):
    for op in f.get("operations", []) or ["?"]:
        label = op if isinstance(op, str) else op.get("label", json.dumps(op, sort_keys=True))
        print(f"{f.get('code')} {f.get('title')}\t{label}")
PY
}

# run_api NAME API PORT [--fault F]: every Schemathesis run of API against a
# fresh server on PORT; writes $out/NAME.keys (sorted failure keys) and
# $out/NAME.status. Its own folder: Schemathesis keeps a cache in
# `.schemathesis/` of its working folder, so runs stay independent.
run_api() {
    local name=$1 api=$2 port=$3
    shift 3
    local dir="$work/$name"
    mkdir -p "$dir"
    trap 'stop_server' EXIT
    start_server "$port" "$dir/server.log" "$@"
    local i=0 status=ok
    : >"$out/$name.keys.tmp"
    while read -r spec token extra; do
        i=$((i + 1))
        local report="$out/$name.$i.json"
        rm -f "$report"
        # shellcheck disable=SC2086 # $extra holds separate arguments
        (cd "$dir" && timeout "$limit" "$st" run "$root/$spec" --url "http://127.0.0.1:$port" \
            --phases examples,coverage,fuzzing,stateful --max-examples "$examples" \
            --checks all --seed "$seed" --generation-database none \
            --header "Authorization: Bearer $token" --no-color \
            --report json --report-json-path "$report" $extra) </dev/null >"$out/$name.$i.log" 2>&1 ||
            { rc=$?; [[ $rc -ne 124 ]] || status=timeout; }
        failure_keys "$report" | sed "s/^/run$i\t/" >>"$out/$name.keys.tmp"
    done < <(st_runs "$api")
    stop_server
    sort -u "$out/$name.keys.tmp" >"$out/$name.keys"
    rm -f "$out/$name.keys.tmp"
    echo "$status" >"$out/$name.status"
}

api_of() { "$bin" serve --list-faults | awk -v f="$1" '$1 == f { print $2 }'; }

faults=("$@")
if [[ ${#faults[@]} -eq 0 ]]; then
    mapfile -t faults < <("$bin" serve --list-faults | awk '{ print $1 }')
fi

for api in enablenow mycloud; do
    echo "baseline: $api (correct server)" >&2
    (run_api "baseline-$api" "$api" "$port")
    if [[ -s "$out/baseline-$api.keys" ]]; then
        echo "baseline $api has failures (the exclusions no longer hold):" >&2
        cat "$out/baseline-$api.keys" >&2
    fi
done

# fault_row FAULT PORT: runs FAULT and writes $out/FAULT.row.
fault_row() {
    local fault=$1 api new caught
    api=$(api_of "$fault")
    echo "fault: $fault ($api)" >&2
    run_api "$fault" "$api" "$2" --fault "$fault"
    new=$(comm -23 "$out/$fault.keys" "$out/baseline-$api.keys" | cut -f2- | tr '\t' ' ' |
        sed 's/|/\\|/g' | paste -sd ';' -)
    caught=no
    [[ -n "$new" ]] && caught=yes
    printf '%s\t%s\t%s\t%s\t%s\n' "$fault" "$api" "$caught" "$(cat "$out/$fault.status")" "$new" \
        >"$out/$fault.row"
}

for fault in "${faults[@]}"; do
    [[ -n "$(api_of "$fault")" ]] || { echo "unknown fault: $fault" >&2; exit 2; }
done
# SCHEMATHESIS_PARALLEL faults at a time, each with its own server and port.
slot=0
for fault in "${faults[@]}"; do
    (fault_row "$fault" "$((port + 1 + slot % parallel))") &
    slot=$((slot + 1))
    if ((slot % parallel == 0)); then wait; fi
done
wait
printf 'fault\tapi\tschemathesis\tstatus\tnew failures\n' >"$out/results.tsv"
for fault in "${faults[@]}"; do
    cat "$out/$fault.row" >>"$out/results.tsv" 2>/dev/null ||
        printf '%s\t?\terror\terror\t\n' "$fault" >>"$out/results.tsv"
done

# The table beside apiconform's column, read from tests/generate_strength.rs.
python3 - "$out/results.tsv" tests/generate_strength.rs "$seed" "$examples" >"$out/table.md" <<'PY'
import re, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
ours = {}
for line in open(sys.argv[2]):
    m = re.match(r"//! \| ([a-z0-9-]+) \| (\w+) \| ([^|]*) \|", line)
    if m and m.group(1) != "fault":
        ours[m.group(1)] = m.group(3).strip()
print(f"| fault | API | apiconform generation alone | Schemathesis 4.32.5 (seed {sys.argv[3]}, {sys.argv[4]} examples) | Schemathesis' new failures |")
print("|---|---|---|---|---|")
a = s = 0
for fault, api, caught, status, new in (r + [""] * (5 - len(r)) for r in rows):
    g = ours.get(fault, "?")
    a += g.startswith("yes")
    s += caught == "yes"
    mark = " (run cut at the time limit)" if status == "timeout" else ""
    print(f"| {fault} | {api} | {g} | {caught}{mark} | {new} |")
print(f"| **total** | | **{a} of {len(rows)}** | **{s} of {len(rows)}** | |")
PY
cat "$out/table.md"
