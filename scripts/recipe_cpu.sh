#!/usr/bin/env bash
# The headline recipes, for real, on CPU: recipes/qwen3_pear.sh and recipes/qwen3_sft.sh end to end with
# tiny local models (no downloads), then `pear-verl compare` of the two. Same stages and the same entry
# points as on a GPU cluster (vLLM in generate, GRPO and eval). The settings that differ are all below:
# DEVICE=cpu, the models, the sizes (prompts, samples, steps, batch and micro-batch sizes, lengths), learning
# rates fit for tiny models, sampling at τ = 1 for eval, keeping every teacher sample (a tiny teacher is
# rarely right), GRPO checkpoints every step, and the console/file logger. It checks that the chain runs and
# resumes; the numbers mean nothing at this size.
#
#   bash scripts/recipe_cpu.sh [OUT_DIR]        # default runs/recipe_cpu; rerun to resume
#
# Stage 0 makes the tiny teacher: a tiny model trained briefly (plain SFT) on solver answers, so that it
# finishes its answers (generate keeps only finished responses). Everything after is the recipes' own.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"  # python, torchrun and pear-verl of ./.venv
OUT=${1:-runs/recipe_cpu}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TINY="--hidden 64 --heads 2"  # pear_verl.demo.tiny.VLLM_TINY: vLLM's CPU attention needs head_dim >= 32
TEACHER_STEPS=40

# Small countdown (as the demo): thousands of distinct puzzles up to reordering, short answers
export DEVICE=cpu TASK=countdown GAME_KNOBS="--knob n_numbers=3 --knob max_number=10 --knob target_min=1 --knob target_max=100" DATA="$OUT/data"
export TEACHER="$OUT/models/teacher/global_step_$TEACHER_STEPS/huggingface" STUDENT="$OUT/models/student"
export N_TRAIN=64 N_TEST=8 GEN_N=2 GEN_TEMPERATURE=0.7 GEN_MAX_NEW_TOKENS=32 GEN_KEEP=all GEN_PER_PROMPT=1
export SFT_BATCH=16 SFT_EPOCHS=1 SFT_LR=1e-3 SFT_MAX_LENGTH=512 SFT_TOKENS_PER_GPU=4096
export GRPO_BATCH=16 GRPO_MINI_BATCH=16 ROLLOUT_N=2 GRPO_LR=1e-4 GRPO_SAVE_FREQ=1 GRPO_TEST_FREQ=2
export MAX_PROMPT_LENGTH=192 MAX_RESPONSE_LENGTH=32 EVAL_N=2 EVAL_K="1 2" EVAL_TEMPERATURE=1.0 EVAL_TOP_P=1.0
export LOGGER="[console,file]" VERL_FILE_LOGGER_ROOT="$OUT/metrics"  # verl's file logger: OUT/metrics/PROJECT/RUN.jsonl
export GRPO_EXTRA="trainer.total_training_steps=3 actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=32 \
actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=32 actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=32 \
actor_rollout_ref.rollout.max_model_len=256 actor_rollout_ref.rollout.max_num_batched_tokens=1024 ${GRPO_EXTRA:-}"
export SFT_EXTRA="trainer.total_training_steps=4 ${SFT_EXTRA:-}"

printf '\n== 0. tiny models: student, and a teacher that has seen solver answers\n' >&2
# shellcheck disable=SC2086
[ -e "$STUDENT/config.json" ] || python -m pear_verl.demo.tiny "$STUDENT" --seed 0 $TINY
if [ ! -e "$TEACHER/config.json" ]; then
  # shellcheck disable=SC2086
  [ -e "$OUT/models/solver/sft_train.parquet" ] || pear-verl games make --game "$TASK" $GAME_KNOBS --n 256 --test-n 8 --sft --out "$OUT/models/solver"
  # shellcheck disable=SC2086
  python -m pear_verl.demo.tiny "$OUT/models/teacher_init" --seed 1 $TINY
  VERL_FILE_LOGGER_PATH="$OUT/models/teacher.metrics.jsonl" python -m pear_verl.sft trainer.device=cpu data.num_workers=0 \
    +engine.mixed_precision.param_dtype=fp32 model.path="$OUT/models/teacher_init" \
    data.train_files="$OUT/models/solver/sft_train.parquet" data.train_batch_size=16 pear.enable=false optim.lr=3e-3 \
    trainer.total_training_steps=$TEACHER_STEPS trainer.total_epochs=100 trainer.logger="$LOGGER" \
    trainer.default_local_dir="$OUT/models/teacher" checkpoint.save_contents='[model,optimizer,extra,hf_model]' \
    data.max_token_len_per_gpu=4096
fi

WORK="$OUT/pear" bash recipes/qwen3_pear.sh
WORK="$OUT/sft" bash recipes/qwen3_sft.sh
pear-verl compare sft="$OUT/sft/eval_rl" pear="$OUT/pear/eval_rl" --out "$OUT/compare"
