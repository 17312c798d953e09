#!/usr/bin/env bash
# Runs every test, stopping at the first failing step:
#   1. scripts/bootstrap.sh           .venv, .venv-ref and the reference sdist
#   2. scripts/build.sh               release build installed into .venv
#   3. cargo test                     the Rust core, without Python
#   4. scripts/services.sh start      database servers for the job store tests
#                                     (stopped again when this script exits)
#   5. pytest tests/                  our tests, differential tests included
#   6. run_reference_tests.py         APScheduler 3.11.3's own test suite
#
# Usage: bash scripts/test.sh
# Reports (JUnit XML, pytest logs) are written to target/test-reports/.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

REPORTS="$ROOT/target/test-reports"
VENV_PY="$ROOT/.venv/bin/python"
summary=()
started=$SECONDS

print_summary() {
    echo
    echo "==================== test.sh summary ===================="
    local line
    for line in "${summary[@]}"; do
        echo "  $line"
    done
    echo "  total time: $((SECONDS - started))s"
}

# step NAME COMMAND...: runs COMMAND; on failure prints the summary and exits.
step() {
    local name=$1 t0=$SECONDS rc=0
    shift
    echo
    echo "==================== $name ===================="
    "$@" || rc=$?
    if [[ $rc -ne 0 ]]; then
        summary+=("FAILED  $name (exit $rc)")
        print_summary
        echo "test.sh: FAILED at: $name" >&2
        exit "$rc"
    fi
    summary+=("ok      $name ($((SECONDS - t0))s)")
}

# Limits for steps that could hang on an engine bug (seconds). pytest-timeout
# cannot interrupt native code that holds the GIL, so the whole step is bounded too.
CARGO_TEST_LIMIT=600
PYTEST_LIMIT=600

# limited SECONDS COMMAND...: runs COMMAND, killing it after SECONDS.
limited() {
    local limit=$1 rc=0
    shift
    timeout --kill-after=10 "$limit" "$@" || rc=$?
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then
        echo "test.sh: '$*' did not finish within ${limit}s" >&2
    fi
    return "$rc"
}

cargo_test() {
    local rc=0
    limited "$CARGO_TEST_LIMIT" cargo test 2>&1 | tee "$REPORTS/cargo-test.log" || rc=$?
    return "$rc"
}

pytest_tests() {
    local rc=0
    limited "$PYTEST_LIMIT" "$VENV_PY" -m pytest --junitxml "$REPORTS/pytest.xml" || rc=$?
    if [[ $rc -eq 5 ]]; then
        echo "test.sh: pytest collected no tests from tests/" >&2
    fi
    return "$rc"
}

reference_suite() {
    "$VENV_PY" scripts/run_reference_tests.py --summary-json "$REPORTS/reference.json"
}

mkdir -p "$REPORTS"
rm -f "$REPORTS/cargo-test.log" "$REPORTS/pytest.xml" "$REPORTS/reference.json"

step "bootstrap" bash scripts/bootstrap.sh
step "build (release)" bash scripts/build.sh
step "cargo test" cargo_test
# The servers are stopped however this script ends.
trap 'bash scripts/services.sh stop >"$REPORTS/services-stop.log" 2>&1' EXIT
step "database servers" bash scripts/services.sh start
step "pytest tests/" pytest_tests
step "reference test suite" reference_suite

print_summary
# One closing line with the tests counted over steps 3, 5 and 6 (the reference suite's
# gating files only).
"$VENV_PY" scripts/count_results.py \
    --cargo-log "$REPORTS/cargo-test.log" \
    --junit "$REPORTS/pytest.xml" \
    --reference-json "$REPORTS/reference.json"
