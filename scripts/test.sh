#!/usr/bin/env bash
# Set up ./.venv, then run the whole test suite (unit + CPU end-to-end). Extra args go to pytest,
# e.g. `bash scripts/test.sh -m "not integration"` for the fast unit tests only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
