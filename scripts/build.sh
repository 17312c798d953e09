#!/usr/bin/env bash
# Builds the package (Rust extension in release mode plus python/apscheduler) as a
# wheel and installs it into .venv, replacing any earlier build.
#
# Usage: bash scripts/build.sh [--debug]
#   --debug  unoptimised build: compiles faster, runs slower
#
# Needs .venv from scripts/bootstrap.sh. Rerun after changing Rust or Python sources.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

profile=(--release)
for arg in "$@"; do
    case "$arg" in
        --debug) profile=(--profile dev) ;;
        -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option: $arg" >&2; exit 2 ;;
    esac
done

VENV_PY="$ROOT/.venv/bin/python"
if [[ ! -x "$VENV_PY" || ! -x "$ROOT/.venv/bin/maturin" ]]; then
    echo "build.sh: .venv is missing; run: bash scripts/bootstrap.sh" >&2
    exit 1
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# One build/install at a time per checkout.
mkdir -p .cache target
exec 9>.cache/build.lock
flock 9

# An extension module left in the source tree by an editable install would be
# packed into the wheel next to the fresh one.
rm -f python/apscheduler/_core.*.so python/apscheduler/_core.so

start=$SECONDS
wheel_dir="$ROOT/target/wheels-dev"
rm -rf "$wheel_dir"
echo "build: maturin build ${profile[*]}"
"$ROOT/.venv/bin/maturin" build "${profile[@]}" --interpreter "$VENV_PY" --out "$wheel_dir"

wheels=("$wheel_dir"/*.whl)
if [[ ${#wheels[@]} -ne 1 || ! -f "${wheels[0]}" ]]; then
    echo "build.sh: expected exactly one wheel in $wheel_dir, found: ${wheels[*]}" >&2
    exit 1
fi
echo "build: installing $(basename "${wheels[0]}") into .venv"
# --no-deps: the runtime dependencies are already part of .venv (bootstrap.sh)
"$VENV_PY" -m pip install -q --no-deps --force-reinstall "${wheels[0]}"

# The native module must load; run outside the checkout so that only the installed
# copy can be imported.
(cd / && "$VENV_PY" -I -c 'import apscheduler._core')
echo "build: done in $((SECONDS - start))s"
