#!/usr/bin/env bash
# Set up ./.venv, then run the built-in CPU demo (tiny local models, no downloads, small countdown): teacher and a
# base student with its own prior -> teacher SFT data with behaviour log-probs -> per seed, plain SFT vs PEAR
# students -> identical verl GRPO on CPU -> pass@k; report.md with mean ± sd, paired PEAR − SFT verdict, plots.
# Extra args go to `python -m pear_verl.demo` (e.g. --quick, --workdir DIR, --seeds 0 1 2, --arms sft pear block).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pear_verl.demo "$@"
