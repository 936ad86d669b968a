"""PEAR SFT does not depend on how verl lays out a batch: packed vs padded sequences, micro-batch budgets,
ranks (verl's real trainer on CPU, tiny Qwen2; step 1 sees every row once, as in test_sft_e2e)."""

import os
from pathlib import Path

import pytest

from tests.integration.test_sft_e2e import checked, offline_step1, run_sft

pytestmark = pytest.mark.integration

SEQUENCE = dict(objective="nll", variant="sequence", gamma=1.0, block_size=1, ratio_clip=None, log_weight_clip=None)
SEQUENCE_ARGS = ["pear.variant=sequence", "pear.gamma=1.0", "pear.ratio_clip=null", "pear.log_weight_clip=null"]
COMPARED = ("train/loss", "train/grad_norm", "pear/base_loss", "pear/weight_mean", "pear/ess", "pear/trainable_tokens")


def same_step(a: dict, b: dict, rel: float = 1e-5) -> list[str]:
    """The step-1 metrics on which two runs differ by more than `rel`."""
    return [key for key in COMPARED if a[key] != pytest.approx(b[key], rel=rel)]


def run_leaky(run, name, *args, **kw):
    """`run` with tests/leaky_attention.py's attention, which ignores packing (the trainer process imports it
    on `import verl`)."""
    root = str(Path(__file__).resolve().parents[2])
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VERL_USE_EXTERNAL_MODULES", "tests.leaky_attention")
        env.setenv("PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        return run(name, *args, "+model.override_config.attn_implementation=leaky_sdpa", **kw)


def test_packed_sequences_match_the_padded_path_and_a_leaky_attention_does_not(tiny_models, teacher_scored, tmp_path):
    """verl's GPU default `model.use_remove_padding=True` packs a micro-batch into one row; on CPU, sdpa then masks
    attention per sequence. Same step-1 loss and gradient norm as the padded path; an attention that leaks across
    the packed sequences (the control) differs, so the comparison can fail."""
    run = lambda name, *args, **kw: checked(run_sft(tmp_path / name, tiny_models["student"], teacher_scored, *args, **kw))[0]  # noqa: E731
    padded = run("padded", "model.use_remove_padding=False")
    packed = run("packed", "model.use_remove_padding=True")
    assert same_step(packed, padded) == []
    leaky = run_leaky(run, "leaky", "model.use_remove_padding=True")
    assert "pear/base_loss" in same_step(leaky, padded)  # the check fails on the control


def test_self_normalised_weights_do_not_depend_on_the_layout(tiny_models, teacher_scored, tmp_path):
    """`pear.self_normalize=true` divides by the mean weight of the global batch: the sequence variant with one
    micro-batch per sample, one for all, and two ranks give the same loss and gradient norm, equal to the
    offline Σ (G / mean G) ℓ / N; the ESS reported is the raw weights' (< 1, not the 1.0 of a per-sample mean)."""
    run = lambda name, *args, **kw: checked(run_sft(tmp_path / name, tiny_models["student"], teacher_scored, *args, **kw))[0]  # noqa: E731
    args = [*SEQUENCE_ARGS, "pear.self_normalize=true"]
    small = run("small", *args, "data.max_token_len_per_gpu=80")  # about one sample per micro-batch
    large = run("large", *args, "data.max_token_len_per_gpu=4096")  # one micro-batch for the whole step
    ranks = run("ranks", *args, nproc=2)
    assert same_step(large, small) == [] and same_step(ranks, small) == []
    want = offline_step1(tiny_models["student"], teacher_scored, **SEQUENCE)
    assert small["train/loss"] == pytest.approx(want["train/loss"] / want["pear/weight_mean"], rel=2e-4)
    assert small["pear/ess"] == pytest.approx(want["pear/ess"], rel=2e-4) and small["pear/ess"] < 0.99


def test_ulysses_sequence_parallel_matches_one_process(tiny_models, teacher_scored, tmp_path):
    """verl's Ulysses sequence parallelism (2 ranks split each packed micro-batch; on CPU the all-to-alls run over
    gloo inside pear_verl.cpu_runtime.ulysses_attention): the PEAR loss sees whole gathered sequences, so step 1
    equals one process without it; an attention without the all-to-alls (each rank within its own slice) does not."""
    run = lambda name, *args, **kw: checked(run_sft(tmp_path / name, tiny_models["student"], teacher_scored, *args, **kw))[0]  # noqa: E731
    one = run("one", "model.use_remove_padding=True")
    sp = run("sp", "model.use_remove_padding=True", "engine.ulysses_sequence_parallel_size=2", nproc=2)
    # Loss and PEAR metrics to 1e-5 (measured ~1e-7); the gradient norm to 1e-4 (measured 5e-5 relative: the
    # backward of gloo's all-gather runs as scatters, summed in another order than one process's attention).
    assert same_step(sp, one) in ([], ["train/grad_norm"]) and same_step(sp, one, rel=1e-4) == []
    sliced = run_leaky(run, "sliced", "model.use_remove_padding=True", "engine.ulysses_sequence_parallel_size=2", nproc=2)
    assert "pear/base_loss" in same_step(sliced, one)  # the check fails when attention ignores the other slices
