#!/usr/bin/env bash
# On a lent GPU machine (torch + transformers, no verl/Ray/vLLM): PEAR's math in bf16, HF scoring and the
# token sampler on CUDA, against CPU references. Writes the summary to $OUT/gpu_check.json (default runs/gpu_check).
# See scripts/gpu_check.py and bench/long_trace_gpu.py; record the results in README's "What ran where".
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-runs/gpu_check}  # $OUT on the lent GPU machine; runs/ is ignored by git
mkdir -p "$out"
status=0
python3 scripts/gpu_check.py --out "$out/gpu_check.json" "$@" || status=$?
# Long-trace throughput of the HF data paths (a Qwen3-1.7B-shaped model): see bench/long_trace_gpu.py.
python3 bench/long_trace_gpu.py --out "$out/long_trace_gpu.json" || status=$?
exit "$status"
