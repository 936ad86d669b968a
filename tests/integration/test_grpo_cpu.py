"""verl's real GRPO loop (`verl.trainer.main_ppo`) on CPU with reward_fns and this project's `hf` rollout
backend, and a control run of verl's own vLLM rollout (vLLM's CPU build) whose weight syncs are skipped.
(The same checks on verl's vLLM rollout run in test_recipe_cpu.py, inside the headline recipes.)

A tiny student is first taught the answer format with a few plain-SFT steps, then GRPO runs two steps.
A model this small is rarely right, so the reward gives half credit for the answer format and partial
credit for near misses (reward_fns' game options), and a small entropy bonus guarantees a gradient, so that
the weight sync is tested on changed weights. Asserted: every reward equals reward_fns' score of the dumped
generated text, parameters changed, the second rollout ran on the updated actor weights
(`training/rollout_probs_diff_max`), the KL loss against the reference model was computed (as in the
recipes), a checkpoint with an HF export was written, and no shared-memory segment was left in /dev/shm.
A control run in which vLLM ignores every weight sync after the first (a vLLM plugin installed for that run
only) shows that the sync check can fail. With the hf rollout the same seed gives the same run: every
per-step metric but timings, the final weights and pass@k; another seed gives other samples and weights."""

import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from pear_verl.behaviour.generate import GenerationSettings
from pear_verl.cpu_runtime.shm_guard import leaks, segments
from pear_verl.demo.pipeline import GAME, KNOBS, grpo_stage, hf_export, sft_stage, split_off_val
from pear_verl.demo.tiny import VLLM_TINY, save_tiny_model
from pear_verl.evaluation.evaluate import run_eval
from pear_verl.evaluation.rl_data import make_game_data
from reward_fns import compute_score

pytestmark = pytest.mark.integration
SYNC_TOLERANCE = 1e-3
REWARD = {"format_weight": 0.5, "partial_credit": True}

# A vLLM general plugin for the control run: the worker extension verl installs in vLLM drops every weight
# update after the first (the first one replaces vLLM's dummy start-up weights).
SKIP_SYNC_PLUGIN = '''
def register():
    from verl.workers.rollout.vllm_rollout import utils
    ext = utils.vLLMColocateWorkerExtension
    if getattr(ext, "_skips_syncs", False):
        return
    original_sync, original_update = ext.update_weights_from_ipc, ext._update_weights
    def update_weights_from_ipc(self, *args, **kwargs):
        self._syncs = getattr(self, "_syncs", 0) + 1
        return original_sync(self, *args, **kwargs)
    def _update_weights(self, *args, **kwargs):
        if self._syncs <= 1:
            return original_update(self, *args, **kwargs)
    ext.update_weights_from_ipc, ext._update_weights, ext._skips_syncs = update_weights_from_ipc, _update_weights, True
'''


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(next(folder.glob("*.safetensors"))))


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """Game data and a tiny student (head_dim 32, which vLLM's CPU attention needs) that knows the format."""
    root = tmp_path_factory.mktemp("grpo")
    data = root / "data"
    make_game_data(GAME, 64, 8, 0, KNOBS, data, sft=True)
    split_off_val(data / "sft_train.parquet", data, "solver")
    save_tiny_model(root / "init", seed=1, **VLLM_TINY)
    model = sft_stage(root / "sft", root / "init", data / "solver_train.parquet", data / "solver_val.parquet", 60, ["pear.enable=false", "optim.lr=3e-3"])
    return data, model


def run_grpo(run: Path, student, rollout: str, seed: int = 0) -> tuple[Path, list[dict]]:
    data, model = student
    before = segments()
    export = grpo_stage(run, model, data, steps=2, rollout=rollout, seed=seed, extra=[
        *[f"+reward.custom_reward_function.reward_kwargs.{k}={v}" for k, v in REWARD.items()],
        f"trainer.rollout_data_dir={run / 'rollouts'}", "actor_rollout_ref.rollout.calculate_log_probs=True",
        "actor_rollout_ref.actor.entropy_coeff=0.01", "actor_rollout_ref.rollout.max_num_batched_tokens=1024",
        "actor_rollout_ref.actor.use_kl_loss=True", "actor_rollout_ref.actor.kl_loss_coef=0.001",  # as the recipes: a reference model
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=64",
        "actor_rollout_ref.rollout.max_model_len=256",
    ])
    assert not leaks(before), "shared-memory segments left in /dev/shm"
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2]
    return export, metrics


@pytest.fixture(scope="module")
def hf_run(tmp_path_factory, student):
    run = tmp_path_factory.mktemp("hf") / "grpo"
    return (run, *run_grpo(run, student, "hf"))


def test_grpo_two_steps_on_cpu_with_the_hf_rollout(hf_run, student):
    run, export, metrics = hf_run

    # Checkpoint written, with an HF export of the trained actor.
    assert (run / "ckpt" / "latest_checkpointed_iteration.txt").read_text().strip() == "2"
    assert export == hf_export(run / "ckpt", 2, "actor") and (export / "config.json").exists()
    # Rewards come from the generated text: re-scoring every dumped response gives the logged score.
    rows = [json.loads(line) for step in (1, 2) for line in (run / "rollouts" / f"{step}.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 16 * 4
    for row in rows:
        assert row["score"] == compute_score(f"game/{GAME}", row["output"], row["gts"], **REWARD)["score"]
    assert sum(bool(row["output"]) for row in rows) >= len(rows) // 2  # a tiny student may stop at once, not mostly
    # The second rollout ran on the weights after the first update (synced to the rollout engine): its
    # log-probs match the updated actor's.
    assert metrics[1]["data"]["training/rollout_probs_diff_max"] < SYNC_TOLERANCE
    assert metrics[0]["data"]["actor/grad_norm"] > 0
    assert "actor/kl_loss" in metrics[1]["data"]
    # Parameters changed.
    before, after = weights(student[1]), weights(export)
    assert before.keys() == after.keys()
    assert any(not torch.equal(before[k], after[k]) for k in before)


def differences(first: list[dict], second: list[dict]) -> list[tuple]:
    """(step, key, first, second) of every logged metric but timings that differs between two runs."""
    untimed = lambda m: {k: v for k, v in m["data"].items() if not k.startswith(("timing", "perf/", "actor/perf/"))}  # noqa: E731
    return [(a["step"], k, untimed(a).get(k), untimed(b).get(k)) for a, b in zip(first, second, strict=True)
            for k in sorted(untimed(a).keys() | untimed(b).keys()) if untimed(a).get(k) != untimed(b).get(k)]


def pass_at_k(export: Path, data: Path, out: Path) -> dict:
    settings = GenerationSettings(str(export), n=4, temperature=1.0, max_new_tokens=24, seed=0)
    return run_eval(str(export), {GAME: str(data / "test.parquet")}, settings, [1, 4], str(out))["benchmarks"]


def test_the_same_seed_gives_the_same_run(hf_run, student, tmp_path):
    run, export, metrics = hf_run
    again_export, again = run_grpo(tmp_path / "again", student, "hf")
    assert differences(metrics, again) == []  # rewards, lengths, losses, grad norms, rollout/actor log-prob checks
    assert len({m["data"]["critic/score/mean"] for m in metrics} | {0.0}) > 1  # the rewards say something
    first, second = weights(export), weights(again_export)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert pass_at_k(again_export, student[0], tmp_path / "eval_again") == pass_at_k(export, student[0], tmp_path / "eval")
    other_export, _ = run_grpo(tmp_path / "seed1", student, "hf", seed=1)
    outputs = lambda folder: sorted(json.loads(line)["output"] for line in (folder / "rollouts" / "1.jsonl").read_text().splitlines())  # noqa: E731
    assert outputs(tmp_path / "seed1") != outputs(run) and outputs(tmp_path / "again") == outputs(run)
    other = weights(other_export)
    assert any(not torch.equal(first[k], other[k]) for k in first)


def test_sync_check_fails_when_vllm_skips_syncs(tmp_path, student, monkeypatch):
    plugin = tmp_path / "plugin"
    (plugin / "skip_sync-0.dist-info").mkdir(parents=True)
    (plugin / "skip_sync.py").write_text(SKIP_SYNC_PLUGIN)
    (plugin / "skip_sync-0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: skip-sync\nVersion: 0\n")
    (plugin / "skip_sync-0.dist-info" / "entry_points.txt").write_text("[vllm.general_plugins]\nskip_sync = skip_sync:register\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(plugin), os.environ.get("PYTHONPATH")])))

    _, metrics = run_grpo(tmp_path / "grpo", student, "vllm")
    assert metrics[1]["data"]["training/rollout_probs_diff_max"] > SYNC_TOLERANCE
