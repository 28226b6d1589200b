#!/usr/bin/env bash
# Parses a JUnit XML report with a real consumer, Python's junitparser, and
# checks that the counts it declares match the test cases it holds.
#
#   scripts/check-junit.sh junit.xml [--expect tests=4,failures=1,skipped=0]
#
# junitparser is installed into a virtualenv under target/ (CI machines
# start clean); needs python3 with the venv module.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
report="${1:?usage: check-junit.sh JUNIT.xml [--expect tests=N,failures=N,errors=N,skipped=N]}"
expect=""
if [[ "${2:-}" == "--expect" ]]; then expect="${3:?--expect needs a value}"; fi

venv="$root/target/junit-venv"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import junitparser" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check junitparser
fi

"$venv/bin/python" - "$report" "$expect" <<'PY'
import sys
from junitparser import JUnitXml, TestSuite, Failure, Error, Skipped

path, expect = sys.argv[1], sys.argv[2]
xml = JUnitXml.fromfile(path)
suites = [xml] if isinstance(xml, TestSuite) else list(xml)
counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
problems = []
for suite in suites:
    cases = list(suite)
    found = {"tests": len(cases), "failures": 0, "errors": 0, "skipped": 0}
    for case in cases:
        if not case.name or not case.classname:
            problems.append(f"{suite.name}: a testcase without name or classname")
        if case.time is None or case.time < 0:
            problems.append(f"{suite.name} / {case.name}: no time")
        for r in case.result:
            kind = {Failure: "failures", Error: "errors", Skipped: "skipped"}.get(type(r))
            if kind:
                found[kind] += 1
                if kind != "skipped" and not r.message:
                    problems.append(f"{suite.name} / {case.name}: {kind[:-1]} without a message")
    for k in found:
        declared = getattr(suite, k)
        if declared != found[k]:
            problems.append(f"{suite.name}: declares {k}={declared} but holds {found[k]}")
        counts[k] += found[k]
if expect:
    for pair in expect.split(","):
        k, v = pair.split("=")
        if counts[k] != int(v):
            problems.append(f"expected {k}={v}, found {counts[k]}")
print(f"junitparser: {len(suites)} suite{'s' if len(suites) != 1 else ''}, {counts['tests']} cases "
      f"({counts['failures']} failures, {counts['errors']} errors, {counts['skipped']} skipped)")
if problems:
    print("\n".join("problem: " + p for p in problems), file=sys.stderr)
    sys.exit(1)
PY
