#!/usr/bin/env bash
# Set up ./.venv, then run the built-in CPU demo (tiny local models, no downloads): teacher -> teacher SFT data
# with behaviour log-probs -> plain SFT vs PEAR students -> identical verl GRPO on CPU -> pass@k table + plot.
# Extra args go to `python -m pear_verl.demo` (e.g. --quick, --workdir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pear_verl.demo "$@"
