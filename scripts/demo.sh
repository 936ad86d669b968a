#!/usr/bin/env bash
# Set up ./.venv, then run the built-in CPU demo (tiny local models, no downloads): a teacher is trained,
# scores the SFT data, and one student is trained with plain SFT and one with PEAR.
# Extra args go to `python -m pear_verl.demo` (e.g. --steps 40 --nproc 2).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pear_verl.demo "$@"
