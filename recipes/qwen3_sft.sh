#!/usr/bin/env bash
# The plain-SFT baseline of recipes/qwen3_pear.sh: every setting shared, only the SFT objective differs
# (pear.enable=false: plain NLL through the same trainer and data). Same knobs, same DRY_RUN.
export SFT_OBJECTIVE=sft
exec bash "$(dirname "$0")/qwen3_pear.sh" "$@"
