#!/usr/bin/env bash
# The paper's controlled game experiment, on Countdown: a Qwen3 teacher writes verified solutions,
# a small Qwen3 student is SFT-ed with PEAR (SFT_OBJECTIVE=pear) or plainly (SFT_OBJECTIVE=sft), then
# both get identical GRPO and are compared on held-out puzzles. Sizes suited to one 8-GPU node.
#   bash recipes/countdown_pear.sh && SFT_OBJECTIVE=sft bash recipes/countdown_pear.sh
export TASK=countdown
: "${GAME_KNOBS:=--knob n_numbers=4 --knob max_number=100}"
: "${STUDENT:=Qwen/Qwen3-0.6B-Base}" "${TEACHER:=Qwen/Qwen3-4B}"
: "${N_TRAIN:=10000}" "${N_TEST:=500}" "${MAX_RESPONSE_LENGTH:=1024}" "${GEN_MAX_NEW_TOKENS:=1024}"
export GAME_KNOBS STUDENT TEACHER N_TRAIN N_TEST MAX_RESPONSE_LENGTH GEN_MAX_NEW_TOKENS
exec bash "$(dirname "$0")/qwen3_pear.sh" "$@"
