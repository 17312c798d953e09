#!/usr/bin/env bash
# Checks the package's type information as installed in .venv:
#   1. stubtest        the .pyi stubs against the installed runtime modules
#   2. stubtest        the same stubs against APScheduler 3.11.3's own source
#                      (skipped when .cache/apscheduler-3.11.3 is not unpacked)
#   3. mypy --strict   tests/typing_usage/usage_userguide.py (correct code from the
#                      reference's docs) and the typed examples must pass;
#                      usage_rejected.py (wrong code) must fail exactly on its
#                      marked lines
#
# Usage: bash scripts/typecheck.sh
# Needs .venv with the package built and installed (scripts/bootstrap.sh, build.sh).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV_PY="$ROOT/.venv/bin/python"
USAGE="$ROOT/tests/typing_usage"
REF_SRC="$ROOT/.cache/apscheduler-3.11.3/src"
if ! "$VENV_PY" -c 'import mypy' 2>/dev/null; then
    echo "typecheck.sh: mypy is missing from .venv; run: bash scripts/bootstrap.sh" >&2
    exit 1
fi

# mypy keeps its cache outside the source tree; the stub checks use their own, so
# that the two never see each other's view of the package.
CACHE="$ROOT/target/mypy-cache"
mkdir -p "$CACHE"
export MYPY_CACHE_DIR="$CACHE/stubtest"

echo "typecheck: stubtest against the installed package"
"$VENV_PY" "$USAGE/run_stubtest.py"

if [[ -d "$REF_SRC/apscheduler" ]]; then
    echo "typecheck: stubtest against APScheduler 3.11.3's source"
    MYPY_CACHE_DIR="$CACHE/stubtest-reference" \
        "$VENV_PY" "$USAGE/run_stubtest.py" --against-reference "$REF_SRC"
else
    echo "typecheck: $REF_SRC is missing; skipping the check against the reference"
fi

# examples/demo.py predates the stubs and is not annotated.
EXAMPLES=(blocking background cron_calendar listeners configure)
example_files=()
for name in "${EXAMPLES[@]}"; do
    example_files+=("$ROOT/examples/$name.py")
done

echo "typecheck: mypy --strict on the usage files and the examples"
# Run from an empty folder so that mypy finds the installed package, not python/.
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
(cd "$workdir" && "$VENV_PY" -m mypy --config-file "$USAGE/mypy.ini" \
    --cache-dir "$CACHE/usage" \
    "$USAGE/usage_userguide.py" "$USAGE/usage_rejected.py" "${example_files[@]}")
echo "typecheck: ok"
