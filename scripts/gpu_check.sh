#!/usr/bin/env bash
# On a lent GPU machine (torch + transformers, no verl/Ray/vLLM): PEAR's math in bf16, HF scoring and the
# token sampler on CUDA, against CPU references. Writes the summary to $OUT/gpu_check.json when $OUT is set.
# See scripts/gpu_check.py; record the result in README's "What ran where".
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/gpu_check.py --out "${OUT:-.}/gpu_check.json" "$@"
