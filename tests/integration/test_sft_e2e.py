"""End-to-end: verl's real SFT trainer, launched through `python -m pear_verl.sft` on CPU.

Every run trains a tiny local Qwen2. With `data.train_batch_size` equal to the dataset size, step 1
sees every row exactly once (whatever the shuffle), so its loss and PEAR metrics can be recomputed
offline from the initial model with the loop reference of docs/method.md.
"""

import json
import math
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from pear_verl.behaviour.score import score_parquet
from pear_verl.training.data import BEHAVIOR_KEY, FINGERPRINT_KEY
from tests.reference import DATA_CONFIG, forward_log_probs, reference_log_weights

pytestmark = pytest.mark.integration

N_ROWS = 16


def run_sft(workdir: Path, model: str, train: str, *overrides: str, nproc: int = 1, steps: int = 1, batch: int = N_ROWS, launcher=None):
    """Run the entry point (through `launcher`, a torchrun command, if given); returns
    (CompletedProcess, [metrics dict per step])."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "metrics.jsonl"
    env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(log), "PYTHONUNBUFFERED": "1"}
    if launcher:
        launcher = [*launcher, "-m", "pear_verl.sft"]
    elif nproc == 1:
        launcher = [sys.executable, "-m", "pear_verl.sft"]
    else:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m", "pear_verl.sft"]
    args = [
        "trainer.device=cpu",
        f"model.path={model}",
        f"data.train_files={train}",
        f"data.train_batch_size={batch}",
        "data.max_token_len_per_gpu=128",  # several micro-batches per step
        "data.num_workers=0",
        "+engine.mixed_precision.param_dtype=fp32",  # exact comparisons: no bf16 autocast
        f"trainer.total_training_steps={steps}",
        "trainer.logger=[console,file]",
        f"trainer.default_local_dir={workdir / 'ckpt'}",
        "trainer.project_name=pear-test",
        "trainer.experiment_name=e2e",
        *overrides,
    ]
    proc = subprocess.run(launcher + args, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    metrics = [json.loads(line)["data"] for line in log.read_text().splitlines()] if log.exists() else []
    return proc, metrics


def checked(result):
    proc, metrics = result
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return metrics


@pytest.fixture(scope="module")
def own_data(tiny_models, raw_parquet, tmp_path_factory):
    out = tmp_path_factory.mktemp("own") / "train.parquet"
    score_parquet(raw_parquet, out, tiny_models["student"], data_config=DATA_CONFIG)
    return str(out)


def offline_step1(model_path, train, objective, variant, gamma, block_size, ratio_clip, log_weight_clip):
    """Step-1 loss and PEAR metrics from the initial model, by plain loops (independent of pear_verl.training.losses)."""
    behavior = pd.read_parquet(train)[BEHAVIOR_KEY]
    total, weights, deltas, bases = 0.0, [], [], []
    for i, lp in enumerate(forward_log_probs(model_path, train)):
        blp = list(behavior[i])
        logw = reference_log_weights([lp], [blp], [[True] * len(lp)], variant, gamma, block_size, ratio_clip, log_weight_clip)[0]
        for t in range(len(lp)):
            base = -lp[t] if objective == "nll" else -math.exp(lp[t]) * lp[t]
            weights.append(math.exp(logw[t]))
            deltas.append(lp[t] - blp[t])
            bases.append(base)
            total += weights[-1] * base
    n = len(weights)
    return {
        "train/loss": total / n,
        "pear/base_loss": sum(bases) / n,
        "pear/weight_mean": sum(weights) / n,
        "pear/weight_max": max(weights),
        "pear/ess": sum(weights) ** 2 / (n * sum(w * w for w in weights)),
        "pear/delta_mean": sum(deltas) / n,
        "pear/trainable_tokens": n,
    }


CASES = {
    "token-nll-paper-defaults": dict(objective="nll", variant="token", gamma=0.999, block_size=4, ratio_clip=(-0.08, 0.3), log_weight_clip=(-10.0, 5.0)),
    "block-dft": dict(objective="dft", variant="block", gamma=0.9, block_size=3, ratio_clip=None, log_weight_clip=(-2.0, 2.0)),
}


def overrides_for(case):
    clip = lambda b: "null" if b is None else f"[{b[0]},{b[1]}]"  # noqa: E731
    return [
        f"pear.objective={case['objective']}",
        f"pear.variant={case['variant']}",
        f"pear.gamma={case['gamma']}",
        f"pear.block_size={case['block_size']}",
        f"pear.ratio_clip={clip(case['ratio_clip'])}",
        f"pear.log_weight_clip={clip(case['log_weight_clip'])}",
    ]


@pytest.mark.parametrize("name", list(CASES))
def test_step1_loss_and_metrics_match_offline_reference(name, tiny_models, teacher_scored, tmp_path):
    case = CASES[name]
    metrics = checked(run_sft(tmp_path, tiny_models["student"], teacher_scored, *overrides_for(case)))
    want = offline_step1(tiny_models["student"], teacher_scored, **case)
    got = metrics[0]
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=2e-4), key
    # A different behaviour policy: weights are not 1 and the PEAR loss differs from plain SFT's.
    assert abs(got["pear/weight_mean"] - 1) > 1e-3 and got["train/loss"] != pytest.approx(got["pear/base_loss"], rel=1e-3)
    assert 0 < got["pear/ess"] < 1
    for key in ("pear/ratio_clip_frac", "pear/weight_clip_frac"):
        assert 0 <= got[key] <= 1


def test_own_log_probs_reproduce_plain_sft(tiny_models, own_data, tmp_path):
    """π_β = the model's own initial policy and γ = 1: every G_t = 1, so step 1 is exactly plain SFT."""
    pear = checked(run_sft(tmp_path / "pear", tiny_models["student"], own_data, "pear.gamma=1.0"))[0]
    plain = checked(run_sft(tmp_path / "plain", tiny_models["student"], own_data, "pear.enable=false"))[0]
    assert pear["train/loss"] == pytest.approx(plain["train/loss"], rel=1e-5)
    assert pear["pear/weight_mean"] == pytest.approx(1.0, abs=1e-5)
    assert pear["pear/ess"] == pytest.approx(1.0, abs=1e-8)
    assert "pear/weight_mean" not in plain and plain["pear/base_loss"] == pytest.approx(plain["train/loss"], rel=1e-5)


def test_trains_and_exports_a_reloadable_hf_checkpoint(tiny_models, teacher_scored, tmp_path):
    metrics = checked(
        run_sft(
            tmp_path, tiny_models["student"], teacher_scored,
            "checkpoint.save_contents=[model,optimizer,extra,hf_model]", f"data.val_files={teacher_scored}", steps=3,
        )
    )
    assert sum("train/loss" in m for m in metrics) == 3
    hf_dir = tmp_path / "ckpt" / "global_step_3" / "huggingface"
    # val/loss is the *unweighted* NLL of the final model on the validation rows (one val batch).
    val_lp = forward_log_probs(str(hf_dir), teacher_scored)
    want_val = -sum(map(sum, val_lp)) / sum(map(len, val_lp))
    assert [m["val/loss"] for m in metrics if "val/loss" in m] == [pytest.approx(want_val, rel=2e-4)]
    trained = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    initial = AutoModelForCausalLM.from_pretrained(tiny_models["student"], dtype=torch.float32)
    changed = [n for n, p in trained.named_parameters() if not torch.equal(p, initial.state_dict()[n])]
    assert changed, "training changed no parameter"
    tokenizer = AutoTokenizer.from_pretrained(hf_dir)
    out = trained.generate(**tokenizer("1 + 2 = ?", return_tensors="pt"), max_new_tokens=4, do_sample=False)
    assert out.shape[1] > 0


def test_two_gloo_ranks_match_one_process(tiny_models, teacher_scored, tmp_path):
    """Data-parallel on 2 CPU ranks: same step-1 loss and global PEAR metrics as one process."""
    one = checked(run_sft(tmp_path / "one", tiny_models["student"], teacher_scored))[0]
    two = checked(run_sft(tmp_path / "two", tiny_models["student"], teacher_scored, nproc=2))[0]
    for key in ("train/loss", "pear/base_loss", "pear/weight_mean", "pear/weight_max", "pear/ess", "pear/delta_mean", "pear/trainable_tokens"):
        assert two[key] == pytest.approx(one[key], rel=2e-4), key


@pytest.mark.parametrize(
    "nproc,column,value,message",
    [
        (1, BEHAVIOR_KEY, "nan", "is not finite"),
        # Row 5 is tokenised by rank 1 of 2: its error must still stop every rank, with its location.
        (2, FINGERPRINT_KEY, "0123456789abcdef", "does not match this tokenisation"),
    ],
)
def test_bad_data_fails_before_training(tiny_models, teacher_scored, tmp_path, nproc, column, value, message):
    frame = pd.read_parquet(teacher_scored)
    frame.at[5, column] = [float("nan")] * len(frame.at[5, BEHAVIOR_KEY]) if value == "nan" else value
    bad = tmp_path / "bad.parquet"
    frame.to_parquet(bad, index=False)
    proc, metrics = run_sft(tmp_path, tiny_models["student"], str(bad), nproc=nproc)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and not metrics
    assert output.count(f"{bad}: row 5: field '{column}'") >= nproc and message in output  # every rank stops
    assert not (tmp_path / "ckpt").exists()


def test_killed_run_resumes_from_its_checkpoint(tiny_models, teacher_scored, tmp_path):
    """verl's resume (trainer.resume_mode=auto) works unchanged under PearSFTTrainer."""
    run = partial(run_sft, tmp_path, tiny_models["student"], teacher_scored, "trainer.save_freq=1", batch=4)
    first = checked(run(steps=2))
    assert sum("train/loss" in m for m in first) == 2
    resumed = checked(run(steps=4))
    log = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [3, 4] and len(resumed) == 2
    assert (tmp_path / "ckpt" / "global_step_4").is_dir()
