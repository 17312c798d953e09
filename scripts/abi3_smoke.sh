#!/usr/bin/env bash
# Installs the built abi3 wheel into virtual environments of other CPython versions
# than .venv's and runs scripts/abi3_smoke.py in each, then part of our test suite
# (the files in TESTS, which need no framework and do not compare with APScheduler
# run by another interpreter): the stable-ABI extension must load and work on every
# CPython the wheel claims (3.9 and newer).
#
# Usage: bash scripts/abi3_smoke.sh [PYTHON...]
#   PYTHON  interpreters to try; by default the oldest and the newest CPython >= 3.9
#           found on PATH (python3.N) and under pyenv's versions/ whose minor version
#           differs from .venv's.
# Exits 77 (and says so) when no such interpreter is found.
#
# Needs the wheel in target/wheels-dev/ (scripts/build.sh). The environments live in
# target/abi3-smoke/ and are reused; the wheel is reinstalled each run.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off
VENV_PY="$ROOT/.venv/bin/python"
WORK="$ROOT/target/abi3-smoke"
TESTS=(
    tests/test_native_paths.py
    tests/test_schedulers_api.py
    tests/test_triggers_behaviour.py
    tests/test_memory_jobstore.py
)
# The test tools, pinned as in requirements-dev.txt.
TEST_TOOLS=(pytest==8.4.2 pytest-timeout==2.4.0 pytz==2026.3)

wheels=("$ROOT"/target/wheels-dev/*-abi3-*.whl)
if [[ ${#wheels[@]} -ne 1 || ! -f "${wheels[0]}" ]]; then
    echo "abi3_smoke.sh: expected one abi3 wheel in target/wheels-dev; run: bash scripts/build.sh" >&2
    exit 1
fi
wheel="${wheels[0]}"

# minor_of PYTHON: prints "3.N" if PYTHON is a working CPython >= 3.9, else nothing.
minor_of() {
    "$1" -c 'import sys, platform
if platform.python_implementation() == "CPython" and sys.version_info >= (3, 9):
    print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true
}

own_minor="$(minor_of "$VENV_PY")"
declare -A by_minor=()
if [[ $# -gt 0 ]]; then
    candidates=("$@")
else
    candidates=()
    for n in $(seq 9 20); do
        command -v "python3.$n" >/dev/null 2>&1 && candidates+=("$(command -v "python3.$n")")
    done
    pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
    for exe in "$pyenv_root"/versions/*/bin/python3; do
        [[ -x "$exe" ]] && candidates+=("$exe")
    done
fi
for exe in "${candidates[@]}"; do
    minor="$(minor_of "$exe")"
    [[ -n "$minor" && "$minor" != "$own_minor" && -z "${by_minor[$minor]:-}" ]] || continue
    # The interpreter must be able to make a venv with pip (Debian's needs python3.N-venv).
    "$exe" -c 'import venv, ensurepip' 2>/dev/null || continue
    by_minor[$minor]="$exe"
done

if [[ ${#by_minor[@]} -eq 0 ]]; then
    echo "abi3_smoke.sh: no CPython >= 3.9 other than $own_minor found; nothing to test" >&2
    exit 77
fi

mapfile -t minors < <(printf '%s\n' "${!by_minor[@]}" | sort -t. -k2 -n)
if [[ $# -eq 0 && ${#minors[@]} -gt 2 ]]; then
    # oldest (the stable ABI's floor) and newest are enough by default
    minors=("${minors[0]}" "${minors[-1]}")
fi

for minor in "${minors[@]}"; do
    exe="${by_minor[$minor]}"
    env_dir="$WORK/py$minor"
    echo "abi3_smoke: CPython $minor ($exe) <- $(basename "$wheel")"
    if [[ ! -x "$env_dir/bin/python" ]] || ! "$env_dir/bin/python" -c '' 2>/dev/null; then
        rm -rf "$env_dir"
        "$exe" -m venv "$env_dir"
    fi
    # The wheel with its dependency (tzlocal, in the newest version for that
    # interpreter), then the wheel alone again so that a rebuilt wheel of the same
    # version replaces the one installed.
    "$env_dir/bin/python" -m pip install -q "$wheel" "${TEST_TOOLS[@]}"
    "$env_dir/bin/python" -m pip install -q --no-deps --force-reinstall "$wheel"
    # From outside the checkout, so that only the installed copy can be imported;
    # warnings our package causes on newer interpreters (deprecations) fail the run.
    (cd / && "$env_dir/bin/python" -I -W error "$ROOT/scripts/abi3_smoke.py")
    # The package comes from the environment's site-packages (it lives under
    # python/, which is not on the path from the checkout's root).
    "$env_dir/bin/python" -m pytest -q -p no:cacheprovider "${TESTS[@]}"
done
echo "abi3_smoke: ok on CPython ${minors[*]}"
