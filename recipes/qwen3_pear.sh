#!/usr/bin/env bash
# PEAR SFT -> GRPO -> pass@k, for a Qwen3 student, the way the paper compares SFT checkpoints: after RL.
#
#   bash recipes/qwen3_pear.sh                    # PEAR (this file's defaults)
#   bash recipes/qwen3_sft.sh                     # the plain-SFT baseline: same everything, objective nll
#   DRY_RUN=1 bash recipes/qwen3_pear.sh          # check every stage's call against the installed verl (~10 s)
#   bash scripts/recipe_cpu.sh                    # both recipes for real on CPU, tiny local models (DEVICE=cpu)
#
# Stages (each skipped once finished; rerun to resume: verl stages from their last checkpoint):
#   1 data      RL prompts (train/test) for TASK: a reasoning game, or math from local JSONL files
#   2 behavior  teacher responses, verified by reward_fns, with behaviour log-probs (pear-verl generate)
#     preflight PEAR's weights by response length for the student, knobs proposed (pear-verl report; pear only)
#   3 sft       PEAR (or plain) SFT of the student with verl's SFT trainer (torchrun, FSDP, HF export)
#   4 grpo      GRPO with verl.trainer.main_ppo, vLLM rollouts, reward_fns as the reward
#   5 merge     the final GRPO actor as a HF folder (verl.model_merger)
#   6 eval      pass@1 / pass@k of the SFT and the post-RL model (pear-verl eval)
# Every knob below is an environment variable; extra hydra overrides go in SFT_EXTRA / GRPO_EXTRA (split on
# whitespace, as hydra overrides are). The recipe takes no arguments (an argument is refused, not dropped).
# STAGES=sft,grpo runs only those stages (data, behavior, preflight, sft, grpo, merge, eval; default: all).
# Multi-node (docs/scale.md): stage sft is torchrun over NNODES x GPUS_PER_NODE: run `STAGES=sft` with
# NODE_RANK=1.. and MASTER_ADDR on every worker node, the whole recipe on node 0; GRPO uses verl's Ray
# conventions: `ray start --head` there, `ray start --address=...` on the others, the recipe on the head.
source "$(dirname "$0")/lib.sh"
no_args "$@"

# -- what to train ----------------------------------------------------------------------------------
: "${SFT_OBJECTIVE:=pear}"                 # pear | sft (the baseline)
: "${STUDENT:=Qwen/Qwen3-1.7B-Base}"
: "${TEACHER:=Qwen/Qwen3-8B}"              # generates the SFT data: pi_beta
: "${TASK:=countdown}"                     # a game (pear-verl games list; rg/<task>: reasoning-gym) or "math"
: "${GAME_KNOBS:=}"                        # e.g. "--knob n_numbers=4"
: "${MATH_TRAIN:=}" "${MATH_TEST:=}"       # TASK=math: local JSONL with problem/answer
: "${THINKING:=none}"                      # true | false | none (the chat template's default): enable_thinking for
                                           # the teacher's samples and for SFT alike (verl's data.enable_thinking_default)
TASK_SLUG="${TASK//\//_}"                   # rg/puzzle24 -> rg_puzzle24 in folder names
: "${WORK:=runs/qwen3_${TASK_SLUG}_${SFT_OBJECTIVE}}"
: "${DATA:=runs/data_${TASK_SLUG}}"             # shared by PEAR and SFT runs: identical data

# -- PEAR knobs (docs/method.md defaults) ---------------------------------------------------------------------
: "${VARIANT:=token}" "${GAMMA:=0.999}" "${BLOCK_SIZE:=4}"
: "${RATIO_CLIP:=[-0.08,0.3]}" "${LOG_WEIGHT_CLIP:=[-10.0,5.0]}" "${SELF_NORMALIZE:=false}"
# LoRA SFT (LORA_RANK=0: full fine-tuning): verl's model.lora_rank/lora_alpha/target_modules. The SFT export
# .../huggingface is then base + adapter merged (the adapter alone in .../lora_adapter); later stages use it.
: "${LORA_RANK:=0}" "${LORA_ALPHA:=16}" "${LORA_TARGET_MODULES:=all-linear}"

# -- hardware ------------------------------------------------------------------------------------------
# DEVICE=cpu runs every stage on CPU (tiny models: CI, laptops): SFT with trainer.device=cpu, GRPO through
# pear_verl.cpu_runtime.grpo (main_ppo plus the CPU overrides it prints with --print-overrides), vLLM's CPU
# build in eager mode. Everything else is identical.
: "${DEVICE:=cuda}"                        # cuda | cpu
if [ "$DEVICE" = cpu ]; then  # any other value is refused by check_settings
  : "${GPUS_PER_NODE:=1}" "${ENFORCE_EAGER:=true}"
  GRPO_MODULE=pear_verl.cpu_runtime.grpo
  SFT_DEVICE="trainer.device=cpu data.num_workers=0 +engine.mixed_precision.param_dtype=fp32"
else
  GRPO_MODULE=verl.trainer.main_ppo
  SFT_DEVICE=""
fi
: "${NNODES:=1}" "${GPUS_PER_NODE:=8}" "${ENFORCE_EAGER:=false}"  # ENFORCE_EAGER: vLLM without compile/CUDA graphs
: "${DATA_WORKERS:=$GPUS_PER_NODE}"        # vLLM engines for generate and eval, one per GPU on Ray (docs: --workers)
VLLM_FLAGS=""
[ "$ENFORCE_EAGER" = true ] && VLLM_FLAGS="--enforce-eager"

# -- sizes -------------------------------------------------------------------------------------------------
: "${N_TRAIN:=20000}" "${N_TEST:=512}"
: "${GEN_N:=4}" "${GEN_TEMPERATURE:=0.7}" "${GEN_MAX_NEW_TOKENS:=4096}" "${GEN_KEEP:=correct}" "${GEN_PER_PROMPT:=1}"
: "${SFT_LR:=1e-5}" "${SFT_EPOCHS:=3}" "${SFT_BATCH:=256}" "${SFT_MAX_LENGTH:=8192}" "${SFT_TOKENS_PER_GPU:=16384}"
: "${GRPO_LR:=1e-6}" "${GRPO_BATCH:=256}" "${GRPO_MINI_BATCH:=64}" "${ROLLOUT_N:=8}" "${GRPO_EPOCHS:=1}"
: "${GRPO_SAVE_FREQ:=50}" "${GRPO_TEST_FREQ:=25}" "${DUMP_ROLLOUTS:=false}"  # true: GRPO samples -> $WORK/grpo_rollouts
: "${MAX_PROMPT_LENGTH:=1024}" "${MAX_RESPONSE_LENGTH:=4096}" "${ROLLOUT_TP:=1}" "${GPU_MEMORY_UTILIZATION:=0.6}"
: "${EVAL_N:=64}" "${EVAL_K:=1 8}" "${EVAL_TEMPERATURE:=0.6}" "${EVAL_TOP_P:=0.95}"
: "${PREFLIGHT:=true}" "${PREFLIGHT_STOP:=false}" "${PREFLIGHT_ROWS:=2000}"  # PREFLIGHT_STOP: no SFT on collapsed weights
: "${LOGGER:=[console,wandb]}" "${PROJECT:=pear_verl}" "${SFT_EXTRA:=}" "${GRPO_EXTRA:=}"
need STUDENT TEACHER TASK WORK DATA
check_settings  # every value above, sizes that cannot work together, unknown SFT_*/GEN_*/... variables
GRPO_DUMP=""
[ "$DUMP_ROLLOUTS" = true ] && GRPO_DUMP="trainer.rollout_data_dir=$WORK/grpo_rollouts"  # verl's jsonl per step

# -- 1. data ---------------------------------------------------------------------------------------------
if [ "$TASK" = math ]; then
  need MATH_TRAIN MATH_TEST
  need_file "$MATH_TRAIN" "$MATH_TEST"
  stage data/train "$DATA/train.parquet" pear-verl math make --input "$MATH_TRAIN" --data-source math --split train --out "$DATA/train.parquet"
  stage data/test "$DATA/test.parquet" pear-verl math make --input "$MATH_TEST" --data-source math --out "$DATA/test.parquet"
else
  # shellcheck disable=SC2086
  stage data "$DATA/train.parquet" pear-verl games make --game "$TASK" --n "$N_TRAIN" --test-n "$N_TEST" $GAME_KNOBS --out "$DATA"
fi

# -- 2. behaviour data: teacher samples, verified, rescored --------------------------------------------
# shellcheck disable=SC2086
stage behavior "$DATA/sft.parquet" pear-verl generate "$DATA/train.parquet" --model "$TEACHER" --tokenizer "$STUDENT" \
  --out "$DATA/sft.parquet" --n "$GEN_N" --temperature "$GEN_TEMPERATURE" --max-new-tokens "$GEN_MAX_NEW_TOKENS" \
  --keep "$GEN_KEEP" --max-per-prompt "$GEN_PER_PROMPT" --backend vllm $VLLM_FLAGS \
  --workers "$DATA_WORKERS" --data max_length="$SFT_MAX_LENGTH" --data enable_thinking_default="$THINKING"  # SFT's data settings

# -- pre-flight: will PEAR's weights stay informative at every response length? (pear only) --------------
# The student's log-probs on a sample of the SFT rows; weights by length bucket, knobs proposed if needed
# ($WORK/preflight/report.md). PREFLIGHT_STOP=true: stop here when the weights collapse in a length bucket.
if [ "$SFT_OBJECTIVE" = pear ] && [ "$PREFLIGHT" = true ]; then
  # "[lo,hi]" -> "lo hi"; null (no clip) -> bounds no log-ratio reaches
  clip_words() { local x=${1//[\[\]]/}; [ "$x" = null ] && echo "-1000000.0 1000000.0" || echo "${x/,/ }"; }
  # shellcheck disable=SC2046
  stage preflight "$WORK/preflight/report.json" pear-verl report "$DATA/sft.parquet" --model "$STUDENT" --out "$WORK/preflight" \
    --variant "$VARIANT" --gamma "$GAMMA" --block-size "$BLOCK_SIZE" --ratio-clip $(clip_words "$RATIO_CLIP") \
    --log-weight-clip $(clip_words "$LOG_WEIGHT_CLIP") --max-rows "$PREFLIGHT_ROWS" \
    --data max_length="$SFT_MAX_LENGTH" --data enable_thinking_default="$THINKING" $([ "$PREFLIGHT_STOP" = true ] && echo --fail-on-degenerate)
fi

# -- 3. SFT with verl's trainer (PEAR or plain) ---------------------------------------------------------
PEAR_ENABLE=true
[ "$SFT_OBJECTIVE" = sft ] && PEAR_ENABLE=false
# shellcheck disable=SC2086
verl_stage sft "$WORK/sft" torchrun pear_verl.sft \
  model.path="$STUDENT" data.train_files="$DATA/sft.parquet" \
  data.train_batch_size="$SFT_BATCH" data.max_length="$SFT_MAX_LENGTH" data.max_token_len_per_gpu="$SFT_TOKENS_PER_GPU" \
  data.enable_thinking_default="$THINKING" optim.lr="$SFT_LR" trainer.total_epochs="$SFT_EPOCHS" \
  pear.enable="$PEAR_ENABLE" pear.variant="$VARIANT" pear.gamma="$GAMMA" pear.block_size="$BLOCK_SIZE" \
  pear.ratio_clip="$RATIO_CLIP" pear.log_weight_clip="$LOG_WEIGHT_CLIP" pear.self_normalize="$SELF_NORMALIZE" \
  model.lora_rank="$LORA_RANK" model.lora_alpha="$LORA_ALPHA" model.target_modules="$LORA_TARGET_MODULES" \
  checkpoint.save_contents='[model,optimizer,extra,hf_model]' trainer.default_local_dir="$WORK/sft" \
  trainer.nnodes="$NNODES" trainer.n_gpus_per_node="$GPUS_PER_NODE" $SFT_DEVICE \
  trainer.logger="$LOGGER" trainer.project_name="$PROJECT" trainer.experiment_name="$(basename "$WORK")_sft" $SFT_EXTRA
SFT_MODEL="$(latest "$WORK/sft")/huggingface"

# -- 4. GRPO with verl, vLLM rollouts, reward_fns -----------------------------------------------------
# shellcheck disable=SC2086
verl_stage grpo "$WORK/grpo" python "$GRPO_MODULE" \
  algorithm.adv_estimator=grpo \
  data.train_files="$DATA/train.parquet" data.val_files="$DATA/test.parquet" \
  data.train_batch_size="$GRPO_BATCH" data.max_prompt_length="$MAX_PROMPT_LENGTH" data.max_response_length="$MAX_RESPONSE_LENGTH" \
  actor_rollout_ref.model.path="$SFT_MODEL" \
  actor_rollout_ref.actor.optim.lr="$GRPO_LR" actor_rollout_ref.actor.ppo_mini_batch_size="$GRPO_MINI_BATCH" \
  actor_rollout_ref.actor.use_kl_loss=True actor_rollout_ref.actor.kl_loss_coef=0.001 \
  actor_rollout_ref.rollout.name=vllm actor_rollout_ref.rollout.n="$ROLLOUT_N" \
  actor_rollout_ref.rollout.tensor_model_parallel_size="$ROLLOUT_TP" \
  actor_rollout_ref.rollout.gpu_memory_utilization="$GPU_MEMORY_UTILIZATION" \
  reward.custom_reward_function.path=pkg://reward_fns reward.custom_reward_function.name=compute_score \
  trainer.nnodes="$NNODES" trainer.n_gpus_per_node="$GPUS_PER_NODE" trainer.total_epochs="$GRPO_EPOCHS" \
  trainer.save_freq="$GRPO_SAVE_FREQ" trainer.test_freq="$GRPO_TEST_FREQ" trainer.default_local_dir="$WORK/grpo" \
  trainer.logger="$LOGGER" trainer.project_name="$PROJECT" trainer.experiment_name="$(basename "$WORK")_grpo" $GRPO_DUMP $GRPO_EXTRA

# -- 5. the post-RL model as a HF folder ----------------------------------------------------------------
if ! selected merge; then
  log "[not in STAGES] merge"
elif dry; then
  log "[dry-run] merge: python -m verl.model_merger merge --backend fsdp ..."; plan merge module verl.model_merger
elif [ ! -e "$WORK/rl_model/config.json" ]; then
  missing_inputs merge "$(latest "$WORK/grpo")"
  log "merge"; python -m verl.model_merger merge --backend fsdp --local_dir "$(latest "$WORK/grpo")/actor" --target_dir "$WORK/rl_model"
fi

# -- 6. evaluation: after SFT and after RL --------------------------------------------------------------
for which in sft rl; do
  model=$SFT_MODEL
  [ "$which" = rl ] && model="$WORK/rl_model"
  # shellcheck disable=SC2086
  stage "eval/$which" "$WORK/eval_$which/results.json" pear-verl eval --model "$model" --benchmark "$TASK=$DATA/test.parquet" \
    --n "$EVAL_N" --k $EVAL_K --temperature "$EVAL_TEMPERATURE" --top-p "$EVAL_TOP_P" \
    --max-new-tokens "$MAX_RESPONSE_LENGTH" --backend vllm $VLLM_FLAGS --workers "$DATA_WORKERS" --out "$WORK/eval_$which"
done
finish
dry || log "done: $WORK/eval_sft and $WORK/eval_rl; PEAR vs baseline after RL:  pear-verl compare sft=<qwen3_sft.sh's WORK>/eval_rl pear=<qwen3_pear.sh's WORK>/eval_rl --out DIR  (defaults: runs/qwen3_${TASK_SLUG}_sft, runs/qwen3_${TASK_SLUG}_pear)"
