#!/usr/bin/env bash
# Checks the package's type information as installed in .venv:
#   0. mypy --strict   the stubs in python/apscheduler/ themselves
#   1. stubtest        the .pyi stubs against the installed runtime modules
#   2. stubtest        the same stubs against APScheduler 3.11.3's own source
#                      (skipped when .cache/apscheduler-3.11.3 is not unpacked)
#   3. mypy --strict   (for .venv's Python and for 3.10)
#                      tests/typing_usage/usage_userguide.py (correct code from the
#                      reference's docs) and the typed examples must pass;
#                      usage_rejected.py (wrong code) must fail exactly on its
#                      marked lines
#
# Usage: bash scripts/typecheck.sh [--with-frameworks]
#   --with-frameworks  also compare the modules that need a framework or database
#                      client: installs tests/typing_usage/frameworks.txt into
#                      .cache/typing-frameworks/ (pip --target, not into .venv) and
#                      puts it on the runtime's path for both stubtest passes
# Needs .venv with the package built and installed (scripts/bootstrap.sh, build.sh).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

with_frameworks=0
for arg in "$@"; do
    case "$arg" in
        --with-frameworks) with_frameworks=1 ;;
        -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "typecheck.sh: unknown option: $arg" >&2; exit 2 ;;
    esac
done

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

stubtest_args=()
if [[ $with_frameworks -eq 1 ]]; then
    FRAMEWORKS="$ROOT/.cache/typing-frameworks"
    stamp="$(sha256sum "$USAGE/frameworks.txt" | cut -d' ' -f1)"
    if [[ "$(cat "$FRAMEWORKS/.stamp" 2>/dev/null)" != "$stamp" ]]; then
        echo "typecheck: installing tests/typing_usage/frameworks.txt into $FRAMEWORKS"
        rm -rf "$FRAMEWORKS"
        PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV_PY" -m pip install -q --target "$FRAMEWORKS" \
            -r "$USAGE/frameworks.txt"
        echo "$stamp" >"$FRAMEWORKS/.stamp"
    fi
    stubtest_args=(--extra-path "$FRAMEWORKS")
fi

# Every check runs; the script fails at the end if any of them failed.
failed=()

echo "typecheck: mypy --strict on the stubs"
mapfile -t stubs < <(find "$ROOT/python/apscheduler" -name '*.pyi' | sort)
"$VENV_PY" -m mypy --strict --cache-dir "$CACHE/stubs" "${stubs[@]}" \
    || failed+=("mypy --strict (stubs)")

echo "typecheck: stubtest against the installed package"
"$VENV_PY" "$USAGE/run_stubtest.py" "${stubtest_args[@]}" || failed+=("stubtest (installed package)")

if [[ -d "$REF_SRC/apscheduler" ]]; then
    echo "typecheck: stubtest against APScheduler 3.11.3's source"
    MYPY_CACHE_DIR="$CACHE/stubtest-reference" \
        "$VENV_PY" "$USAGE/run_stubtest.py" --against-reference "$REF_SRC" "${stubtest_args[@]}" \
        || failed+=("stubtest (APScheduler 3.11.3)")
else
    echo "typecheck: $REF_SRC is missing; skipping the check against the reference"
fi

# examples/demo.py predates the stubs and is not annotated.
EXAMPLES=(blocking background cron_calendar listeners configure)
example_files=()
for name in "${EXAMPLES[@]}"; do
    example_files+=("$ROOT/examples/$name.py")
done

# Run from an empty folder so that mypy finds the installed package, not python/.
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
# The interpreter's own version, and the oldest one this mypy can target (the
# package supports 3.9, which mypy no longer does).
own_version="$("$VENV_PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
for target in "$own_version" 3.10; do
    echo "typecheck: mypy --strict --python-version $target on the usage files and the examples"
    (cd "$workdir" && "$VENV_PY" -m mypy --config-file "$USAGE/mypy.ini" \
        --python-version "$target" --cache-dir "$CACHE/usage-$target" \
        "$USAGE/usage_userguide.py" "$USAGE/usage_rejected.py" "${example_files[@]}") \
        || failed+=("mypy --strict --python-version $target")
done

if [[ ${#failed[@]} -gt 0 ]]; then
    printf 'typecheck: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "typecheck: ok"
