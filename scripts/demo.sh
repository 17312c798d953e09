#!/usr/bin/env bash
# Installs the package into .venv (creating it if needed) and runs examples/demo.py,
# which runs a BackgroundScheduler with a few jobs for about five seconds and exits.
#
# Usage: bash scripts/demo.sh

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/bootstrap.sh --dev-only
bash scripts/build.sh
echo
exec "$ROOT/.venv/bin/python" examples/demo.py
