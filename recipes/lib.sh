# Shared helpers for the recipes (sourced, not run). A recipe is a list of stages; a stage whose
# output already exists is skipped, so a stopped recipe resumes where it stopped.
#
# DRY_RUN=1: no stage runs. Every verl invocation is composed by hydra against the installed verl
# (`--cfg job`: a misspelled or unknown key fails; the legacy top-level custom_reward_function.* key,
# which verl ignores, is refused by verl_stage), every pear-verl command's arguments are parsed
# (`pear-verl --check`), and user-provided inputs must exist. The tests run the recipes this way.

set -euo pipefail

log() { printf '\n== %s\n' "$*" >&2; }
dry() { [ "${DRY_RUN:-0}" = 1 ]; }

# need VAR...: fail early, naming the variable, when a required setting is empty.
need() {
  local var
  for var in "$@"; do
    [ -n "${!var:-}" ] || { echo "recipe: $var must be set" >&2; exit 2; }
  done
}

# need_file PATH...: a user-provided input must exist (also in DRY_RUN).
need_file() {
  local path
  for path in "$@"; do
    [ -e "$path" ] || { echo "recipe: input $path does not exist" >&2; exit 2; }
  done
}

# stage NAME DONE_PATH pear-verl SUBCOMMAND ARGS...: a pear-verl step.
stage() {
  local name=$1 done_path=$2
  shift 2
  if dry; then log "[dry-run] $name: $*"; "$1" --check "${@:2}" >/dev/null; return; fi
  if [ -e "$done_path" ]; then log "[skip] $name: $done_path exists"; return; fi
  log "$name: $*"
  "$@"
}

# verl_stage NAME DONE_PATH LAUNCHER MODULE OVERRIDES...: a verl entry point (LAUNCHER: torchrun | python).
verl_stage() {
  local name=$1 done_path=$2 launcher=$3 module=$4 arg
  shift 4
  for arg in "$@"; do  # verl 0.9.1 accepts the legacy top-level key but silently ignores it
    case "$arg" in
      custom_reward_function.* | +custom_reward_function.*)
        echo "recipe: $arg: use reward.custom_reward_function.* (the top-level key is ignored by verl's main_ppo)" >&2; exit 2 ;;
    esac
  done
  if dry; then log "[dry-run] $name: python -m $module --cfg job $*"; python -m "$module" --cfg job "$@" >/dev/null; return; fi
  if [ -e "$done_path" ]; then log "[skip] $name: $done_path exists"; return; fi
  log "$name: $launcher -m $module $*"
  if [ "$launcher" = torchrun ]; then
    torchrun --nnodes="$NNODES" --node_rank="${NODE_RANK:-0}" --nproc_per_node="$GPUS_PER_NODE" \
      --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${MASTER_PORT:-29500}" -m "$module" "$@"
  else
    python -m "$module" "$@"
  fi
}

# latest DIR: DIR/global_step_<newest>, from the tracker file verl's trainers write.
latest() {
  if dry; then echo "$1/global_step_DRYRUN"; return; fi
  echo "$1/global_step_$(cat "$1/latest_checkpointed_iteration.txt")"
}
