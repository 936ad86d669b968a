"""verl's real GRPO loop (`verl.trainer.main_ppo`) on CPU with the hf rollout backend and reward_fns.

A tiny student is first taught the answer format with a few plain-SFT steps, then GRPO runs two steps.
A model this small is rarely right (rewards are mostly 0, so GRPO advantages are mostly 0): a small
entropy bonus guarantees a gradient, so that the weight sync is tested on changed weights. Asserted:
every reward equals reward_fns' score of the dumped generated text, parameters changed, the second
rollout ran on the updated actor weights, and a checkpoint with an HF export was written."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from pear_verl.demo import GAME, KNOBS, grpo_stage, hf_export, sft_stage, split_off_val
from pear_verl.rl_data import make_game_data
from pear_verl.tiny import save_tiny_model
from reward_fns import compute_score

pytestmark = pytest.mark.integration


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(next(folder.glob("*.safetensors"))))


def test_grpo_two_steps_on_cpu(tmp_path):
    data = tmp_path / "data"
    make_game_data(GAME, 64, 8, 0, KNOBS, data, sft=True)
    split_off_val(data / "sft_train.parquet", data, "solver")
    save_tiny_model(tmp_path / "init", seed=1, hidden=64)
    student = sft_stage(tmp_path / "sft", tmp_path / "init", data / "solver_train.parquet", data / "solver_val.parquet", 60, ["pear.enable=false", "optim.lr=3e-3"])

    run = tmp_path / "grpo"
    export = grpo_stage(run, student, data, steps=2, extra=[f"trainer.rollout_data_dir={run / 'rollouts'}", "actor_rollout_ref.rollout.calculate_log_probs=True", "actor_rollout_ref.actor.entropy_coeff=0.01"])

    # Checkpoint written, with an HF export of the trained actor.
    assert (run / "ckpt" / "latest_checkpointed_iteration.txt").read_text().strip() == "2"
    assert export == hf_export(run / "ckpt", 2, "actor") and (export / "config.json").exists()
    # Rewards come from the generated text: re-scoring every dumped response gives the logged score.
    rows = [json.loads(line) for step in (1, 2) for line in (run / "rollouts" / f"{step}.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 16 * 4
    for row in rows:
        assert row["score"] == compute_score(f"game/{GAME}", row["output"], row["gts"])["score"]
    assert all(row["output"] for row in rows)
    # The second rollout ran on the weights after the first update (synced through the hf backend): its
    # log-probs match the updated actor's.
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2]
    assert metrics[1]["data"]["training/rollout_probs_diff_max"] < 1e-3
    assert metrics[0]["data"]["actor/grad_norm"] > 0
    # Parameters changed.
    before, after = weights(student), weights(export)
    assert before.keys() == after.keys()
    assert any(not torch.equal(before[k], after[k]) for k in before)
