#!/usr/bin/env bash
# Prepares the development environments. Safe to rerun: finished steps are skipped,
# so a rerun takes well under a second.
#
#   .venv       this package's build and test environment (scripts/requirements-dev.txt)
#   .venv-ref   the real APScheduler 3.11.3, the oracle of the differential tests and
#               the baseline of the benchmarks (scripts/requirements-ref.txt)
#   .cache/apscheduler-3.11.3/
#               the unpacked reference sdist; its tests/ folder is the conformance
#               suite run by scripts/run_reference_tests.py
#
# Usage: bash scripts/bootstrap.sh [--dev-only]
#   --dev-only  set up .venv only (enough to build the package and run the demo)
#
# Environment: PYTHON  interpreter that creates the virtual environments (default: python3)

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

REF_VERSION=3.11.3
REF_SDIST_SHA256=cd2fcc9330039a81a5893472ad49facf23a6d5604cbe1d918c835c6de7834d5a
PYTHON="${PYTHON:-python3}"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off

dev_only=0
for arg in "$@"; do
    case "$arg" in
        --dev-only) dev_only=1 ;;
        -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "bootstrap.sh: unknown option: $arg" >&2; exit 2 ;;
    esac
done

log() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

# One bootstrap at a time per checkout; leftovers of an interrupted run are removed.
mkdir -p .cache
exec 9>.cache/bootstrap.lock
flock 9
rm -rf .cache/.tmp-*

check_base_python() {
    command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found (set PYTHON to a Python >= 3.9)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
        || die "$PYTHON is older than 3.9"
}

# ensure_venv DIR REQUIREMENTS_FILE
# Creates DIR if it is missing or broken, then installs the requirements unless the
# stamp says this exact requirements file is already installed.
ensure_venv() {
    local dir=$1 req=$2 stamp="$1/.bootstrap-stamp" want
    want="$(sha256sum "$req" | cut -d' ' -f1)"
    if [[ -x "$dir/bin/python" ]] && "$dir/bin/python" -c '' 2>/dev/null; then
        if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
            log "$dir is up to date"
            return 0
        fi
    else
        check_base_python
        rm -rf "$dir"
        log "creating $dir with $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
        "$PYTHON" -m venv "$dir"
    fi
    rm -f "$stamp"
    log "installing $req into $dir"
    "$dir/bin/python" -m pip install -q -r "$req"
    printf '%s\n' "$want" >"$stamp"
}

# ensure_nodeps DIR REQUIREMENTS_FILE: installs the requirements without their
# dependencies (stamped like ensure_venv).
ensure_nodeps() {
    local dir=$1 req=$2 stamp="$1/.bootstrap-nodeps-stamp" want
    want="$(sha256sum "$req" | cut -d' ' -f1)"
    [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && return 0
    rm -f "$stamp"
    log "installing $req into $dir without dependencies"
    "$dir/bin/python" -m pip install -q --no-deps -r "$req"
    printf '%s\n' "$want" >"$stamp"
}

sdist_ok() {
    [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$REF_SDIST_SHA256" ]]
}

# Downloads the reference sdist once and unpacks it into .cache/apscheduler-X.Y.Z/.
ensure_ref_sdist() {
    local tarball=".cache/apscheduler-$REF_VERSION.tar.gz"
    local dir=".cache/apscheduler-$REF_VERSION"
    local tmp files
    if [[ -f "$dir/.unpacked" ]] && sdist_ok "$tarball"; then
        log "$dir is up to date"
        return 0
    fi
    if ! sdist_ok "$tarball"; then
        rm -f "$tarball"
        log "downloading the apscheduler $REF_VERSION sdist"
        tmp="$(mktemp -d .cache/.tmp-download.XXXXXX)"
        .venv/bin/python -m pip download -q --no-deps --no-binary :all: \
            -d "$tmp" "apscheduler==$REF_VERSION"
        files=("$tmp"/*.tar.gz)
        [[ ${#files[@]} -eq 1 && -f "${files[0]}" ]] || die "unexpected download: ${files[*]}"
        mv "${files[0]}" "$tarball"
        rm -rf "$tmp"
        sdist_ok "$tarball" || die "$tarball does not have the expected sha256"
    fi
    log "unpacking $tarball"
    rm -rf "$dir"
    tmp="$(mktemp -d .cache/.tmp-unpack.XXXXXX)"
    tar -xzf "$tarball" -C "$tmp" --no-same-owner
    files=("$tmp"/*)
    [[ ${#files[@]} -eq 1 && -d "${files[0]}/tests" ]] || die "unexpected sdist layout in $tarball"
    mv "${files[0]}" "$dir"
    rm -rf "$tmp"
    touch "$dir/.unpacked"
}

start=$SECONDS
ensure_venv .venv scripts/requirements-dev.txt
ensure_nodeps .venv scripts/requirements-dev-nodeps.txt
if [[ $dev_only -eq 0 ]]; then
    ensure_venv .venv-ref scripts/requirements-ref.txt
    ensure_ref_sdist
fi
log "done in $((SECONDS - start))s"
