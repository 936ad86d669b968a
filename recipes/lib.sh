# Shared helpers for the recipes (sourced, not run). A recipe is a list of stages; a stage that finished
# leaves a marker and is skipped next time, so a stopped recipe resumes where it stopped: a pear-verl stage
# resumes from its own parts, a verl stage from its last checkpoint (verl's trainer.resume_mode=auto).
#
# Settings: every `: "${NAME:=default}"` of the recipe is checked by `check_settings` (values, sizes that
# cannot work together, unknown variables such as SFT_EPOCH for SFT_EPOCHS): in a real run before stage 1.
# DRY_RUN=1: no stage runs. The settings and each call are recorded in a plan and all are checked at the end
# in one Python process (`finish`, python -m pear_verl.recipe.check), every problem reported at once: every
# verl call's hydra config is composed against the installed verl (a misspelled or unknown key fails), every
# pear-verl call's arguments are parsed and value-checked, and user-provided inputs must exist. The legacy
# top-level custom_reward_function.* key, which verl accepts and ignores, is refused by verl_stage in every
# mode. The tests run the recipes this way.

set -euo pipefail

log() { printf '\n== %s\n' "$*" >&2; }
dry() { [ "${DRY_RUN:-0}" = 1 ]; }

# no_args "$@": a recipe takes no arguments; settings are environment variables, so a typed override is
# refused rather than silently dropped.
no_args() {
  [ $# -eq 0 ] && return
  echo "recipe: unexpected argument(s): $*" >&2
  echo "recipe: settings are environment variables (e.g. SFT_EPOCHS=2 bash $0); extra hydra overrides go in" \
    "SFT_EXTRA='...' (stage sft) or GRPO_EXTRA='...' (stage grpo)" >&2
  exit 2
}

# need VAR...: fail early, naming the variable, when a required setting is empty.
need() {
  local var
  for var in "$@"; do
    [ -n "${!var:-}" ] || { echo "recipe: $var must be set" >&2; exit 2; }
  done
}

# need_file PATH...: a user-provided input must exist (in DRY_RUN: checked with the plan).
need_file() {
  local path
  if dry; then plan inputs files "$@"; return; fi
  for path in "$@"; do
    [ -e "$path" ] || { echo "recipe: input $path does not exist" >&2; exit 2; }
  done
}

# plan NAME KIND ARGS...: DRY_RUN only, record one call for `finish` to check (NUL-separated words, each
# call ended by a lone RS character: any argument survives, spaces and non-ASCII included).
PLAN=""
plan() {
  [ -n "$PLAN" ] || { PLAN=$(mktemp); trap 'rm -f "$PLAN"' EXIT; }
  printf '%s\0' "$@" $'\036' >>"$PLAN"
}

# check_settings: check every setting the recipe defines (its `: "${NAME:=...}"` lines) in one pass
# (python -m pear_verl.recipe.settings); in DRY_RUN, with the plan.
check_settings() {
  local name pairs=()
  for name in $(grep -oE '\$\{[A-Z][A-Z0-9_]*:=' "$0" | tr -d '${:=' | sort -u); do pairs+=("$name=${!name}"); done
  if dry; then plan settings settings "${pairs[@]}"; return; fi
  python -m pear_verl.recipe.settings "${pairs[@]}"
}

# selected NAME: whether STAGES (comma-separated stage names, e.g. STAGES=sft on a worker node; empty: all)
# selects stage NAME ("data/train" is selected by "data").
selected() {
  [ -z "${STAGES:-}" ] && return 0
  local wanted
  IFS=, read -ra wanted <<<"$STAGES"
  for w in "${wanted[@]}"; do [ "${1%%/*}" = "$w" ] && return 0; done
  return 1
}

# same_call STAMP NAME ARGS...: a stage's output is reused only if the same call made it. STAMP records the
# call; a different one (another model, temperature, length, ...) is refused, naming both, instead of
# silently keeping data made by other settings.
same_call() {
  local stamp=$1 name=$2 call
  shift 2
  call="$*"
  if [ -e "$stamp" ] && [ "$(cat "$stamp")" != "$call" ]; then
    echo "recipe: stage $name: its output was made by another call; delete it (or set another WORK/DATA) to redo it" >&2
    echo "  made by: $(cat "$stamp")" >&2
    echo "  now:     $call" >&2
    exit 2
  fi
  mkdir -p "$(dirname "$stamp")"
  printf '%s' "$call" >"$stamp"
}

# missing_inputs NAME ARGS...: a stage that needs an earlier stage's checkpoint (see `latest`) stops here.
missing_inputs() {
  local name=$1 arg
  shift
  for arg in "$@"; do
    case "$arg" in *global_step_MISSING*)
      echo "recipe: stage $name needs ${arg%%/global_step_MISSING*}, which has no checkpoint yet: run its stage first" >&2; exit 2 ;;
    esac
  done
}

# stage NAME DONE_PATH pear-verl SUBCOMMAND ARGS...: a pear-verl step (it writes DONE_PATH last, atomically).
stage() {
  local name=$1 done_path=$2
  shift 2
  selected "$name" || { log "[not in STAGES] $name"; return; }
  if dry; then log "[dry-run] $name: $*"; plan "$name" pear-verl "${@:2}"; return; fi
  missing_inputs "$name" "$@"
  if [ -e "$done_path" ] && [ -e "$done_path.recipe_call" ]; then
    same_call "$done_path.recipe_call" "$name" "$@"; log "[skip] $name: $done_path exists"; return
  fi
  if [ -e "$done_path" ]; then log "[skip] $name: $done_path exists (made before calls were recorded)"; return; fi
  log "$name: $*"
  "$@"
  same_call "$done_path.recipe_call" "$name" "$@"
}

# verl_stage NAME RUN_DIR LAUNCHER MODULE OVERRIDES...: a verl entry point (LAUNCHER: torchrun | python).
# RUN_DIR/.recipe_done marks it finished; a run stopped before that resumes from its last checkpoint, but only
# with the same call (RUN_DIR/.recipe_call): resuming under other settings would mix two runs.
verl_stage() {
  local name=$1 run_dir=$2 launcher=$3 module=$4 arg
  shift 4
  for arg in "$@"; do  # verl 0.9.1 accepts the legacy top-level key but silently ignores it
    case "$arg" in
      custom_reward_function.* | +custom_reward_function.*)
        echo "recipe: $arg: use reward.custom_reward_function.* (the top-level key is ignored by verl's main_ppo)" >&2; exit 2 ;;
    esac
  done
  selected "$name" || { log "[not in STAGES] $name"; return; }
  if dry; then log "[dry-run] $name: $launcher -m $module $*"; plan "$name" verl "$module" "$@"; return; fi
  missing_inputs "$name" "$@"
  same_call "$run_dir/.recipe_call" "$name" "$launcher" "$module" "$@"
  if [ -e "$run_dir/.recipe_done" ]; then log "[skip] $name: $run_dir is finished"; return; fi
  log "$name: $launcher -m $module $*"
  if [ "$launcher" = torchrun ]; then
    torchrun --nnodes="$NNODES" --node_rank="${NODE_RANK:-0}" --nproc_per_node="$GPUS_PER_NODE" \
      --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${MASTER_PORT:-29500}" -m "$module" "$@"
  else
    python -m "$module" "$@"
  fi
  if [ "${NODE_RANK:-0}" = 0 ]; then touch "$run_dir/.recipe_done"; fi
}

# finish: in DRY_RUN, check every recorded call in one process (a failure lists every bad call).
finish() {
  dry || return 0
  python -m pear_verl.recipe.check "$PLAN"
}

# latest DIR: DIR/global_step_<newest>, from the tracker file verl's trainers write.
# A stage that has not written one yet gives DIR/global_step_MISSING, which `stage`/`verl_stage` refuse to use.
latest() {
  if dry; then echo "$1/global_step_DRYRUN"; return; fi
  if [ -e "$1/latest_checkpointed_iteration.txt" ]; then echo "$1/global_step_$(cat "$1/latest_checkpointed_iteration.txt")"; else echo "$1/global_step_MISSING"; fi
}
