#!/usr/bin/env bash
# Create ./.venv at the repo root and install pear_verl with its test extra. Idempotent: it re-installs
# only when pyproject.toml changed since the last successful setup.
# torch is pinned first to the CPU build 2.13.0 (an unpinned torch would pull a multi-GB CUDA build);
# GPU users install `pip install -e ".[gpu]"` into their own environment instead.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv

stamp=.venv/.pear_verl_setup
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q "torch==2.13.0"
  .venv/bin/python -m pip install -q -e ".[test]"
  echo "$want" > "$stamp"
fi
