"""pear_verl.recipe.check: the recipes' DRY_RUN plan survives any argument, and bad calls are reported by stage."""

import subprocess
from pathlib import Path

from pear_verl.recipe.check import check_plan, read_plan

ROOT = Path(__file__).resolve().parents[3]
TRICKY = ["with space", "trailing space ", "café", "line\nbreak", "", "$HOME", "'quoted'", "a\\b"]


def record(plan: Path, *calls: list[str]) -> None:
    """Record calls with recipes/lib.sh's own `plan` function."""
    script = f'source "{ROOT / "recipes" / "lib.sh"}"; PLAN="$1"; shift; plan "$@"'
    for call in calls:
        subprocess.run(["bash", "-c", script, "bash", str(plan), *call], check=True)


def test_any_argument_survives_the_plan_file(tmp_path):
    plan = tmp_path / "plan"
    calls = [["stage/a", "pear-verl", *TRICKY], ["b", "module", "json"]]
    record(plan, *calls)
    assert read_plan(str(plan)) == calls


def test_every_bad_call_is_reported_with_its_stage(tmp_path):
    plan = tmp_path / "plan"
    record(plan, ["ok", "module", "json"], ["gen", "pear-verl", "generate", "x", "--keep", "sometimes"],
           ["sft", "verl", "pear_verl.sft", "pear.varaint=block"], ["what", "module", "no_such_module_here"])
    errors = check_plan(str(plan))
    assert [e.split(":")[0] for e in errors] == ["recipe"] * 3
    assert [e.split(": ")[1] for e in errors] == ["stage gen", "stage sft", "stage what"]
    assert "invalid choice: 'sometimes'" in errors[0] and "varaint" in errors[1] and "no_such_module_here" in errors[2]


def test_values_are_checked_and_a_problem_in_several_stages_is_reported_once(tmp_path):
    plan = tmp_path / "plan"
    evaluation = ["eval", "--model", "W/sft", "--data", "cd=D/test.parquet", "--n", "4", "--k", "1", "8", "--out", "o"]
    record(plan, ["settings", "settings", "GAMMA=2", "SFT_EPOCHS=1"], ["inputs", "files", str(tmp_path / "missing.jsonl"), str(plan)],
           ["data", "pear-verl", "games", "make", "--game", "countdown", "--knob", "target_min=500", "--knob", "target_max=10", "--out", "D"],
           ["sft", "verl", "pear_verl.sft", "pear.enable=no"], ["eval/sft", "pear-verl", *evaluation], ["eval/rl", "pear-verl", *evaluation])
    assert check_plan(str(plan)) == [
        "recipe: GAMMA=2.0: must be in (0, 1]",
        f"recipe: stage inputs: input {tmp_path / 'missing.jsonl'} does not exist",
        "recipe: stage data: game 'countdown': knob target_min=500 must be <= target_max=10",
        "recipe: stage sft: pear.enable='no': must be true or false",
        "recipe: stage eval/sft, eval/rl: --k 8: pass@k needs 1 <= k <= --n (4)",
    ]


def test_grpo_lengths_beyond_the_rollout_and_token_budgets_are_named(tmp_path):
    plan = tmp_path / "plan"
    record(plan, ["grpo", "verl", "verl.trainer.main_ppo", "data.max_prompt_length=1024", "data.max_response_length=4096",
                  "actor_rollout_ref.rollout.max_model_len=2048", "actor_rollout_ref.actor.use_dynamic_bsz=true",
                  "actor_rollout_ref.actor.ppo_max_token_len_per_gpu=4096"])
    errors = check_plan(str(plan))
    what = "recipe: stage grpo: data.max_prompt_length + data.max_response_length = 5120 > "
    assert errors == [what + "actor_rollout_ref.rollout.max_model_len=2048",
                      what + "actor_rollout_ref.actor.ppo_max_token_len_per_gpu=4096 (verl's dynamic batching needs one sequence to fit)",
                      what + "actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=4096 (verl's dynamic batching needs one sequence to fit)"]
