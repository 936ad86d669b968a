"""pear_verl.training.losses on verl-shaped jagged micro-batches, against verl's sft_loss and loop references."""

import math
import random

import pytest
import torch
from verl.utils import tensordict_utils as tu
from verl.workers.utils.losses import sft_loss

from pear_verl.training.losses import PearLossConfig, make_loss_fn, reduce_pear_stats
from pear_verl.training.weights import WeightConfig
from tests.reference import reference_log_weights

PAPER = WeightConfig(variant="token", gamma=0.999, ratio_clip=(-0.08, 0.3), log_weight_clip=(-10.0, 5.0))


def jagged_batch(seed, bsz=5, max_len=19, dp_size=1, batch_num_tokens=None):
    """Ragged samples laid out as verl's no-padding collator does.

    Returns (model_output, data, per-sample python lists) where the lists are already aligned the way
    verl's loss sees them: `lp[i]` scores token i+1 and `mask[i]` is loss_mask[i+1] (the -1 roll).
    """
    rng = random.Random(seed)
    lengths = [rng.randint(1, max_len) for _ in range(bsz)]
    loss_mask, behavior = [], []
    for n in lengths:
        m = torch.zeros(n, dtype=torch.long)
        prompt = rng.randint(1, n)  # the first token of a sample is always prompt
        m[prompt:] = 1
        if n > 6 and rng.random() < 0.5:  # a second user turn in the middle
            m[prompt + 1 : prompt + 3] = 0
        loss_mask.append(m)
        behavior.append(-torch.rand(n) * 4)
    values = (-torch.rand(sum(lengths)) * 4).requires_grad_(True)
    offsets = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()])
    log_probs = torch.nested.nested_tensor_from_jagged(values, offsets)
    data = tu.get_tensordict(
        {
            "loss_mask": torch.nested.as_nested_tensor(loss_mask, layout=torch.jagged),
            "behavior_log_probs": torch.nested.as_nested_tensor(behavior, layout=torch.jagged),
        },
        non_tensor_dict={"dp_size": dp_size},
    )
    n_train = int(torch.cat(loss_mask).roll(-1).sum())
    tu.assign_non_tensor(data, batch_num_tokens=batch_num_tokens or n_train)
    # Python lists in the loss's alignment, sample by sample.
    flat_mask = torch.cat(loss_mask).roll(-1).bool().tolist()
    flat_beh = torch.cat(behavior).roll(-1).tolist()
    flat_lp = values.detach().tolist()
    rows = []
    for i in range(bsz):
        s, e = offsets[i].item(), offsets[i + 1].item()
        rows.append((flat_lp[s:e], flat_beh[s:e], flat_mask[s:e]))
    return {"log_probs": log_probs}, data, values, rows


def reference_loss(rows, cfg: PearLossConfig, batch_num_tokens, dp_size):
    w = cfg.weights
    total = 0.0
    for lp, blp, mask in rows:
        if cfg.enable:
            logw = reference_log_weights([lp], [blp], [mask], w.variant, w.gamma, w.block_size, w.ratio_clip, w.log_weight_clip)[0]
        for t, m in enumerate(mask):
            if not m:
                continue
            base = -lp[t] if cfg.objective == "nll" else -math.exp(lp[t]) * lp[t]
            total += (math.exp(logw[t]) if cfg.enable else 1.0) * base
    return total / batch_num_tokens * dp_size


def test_pear_off_equals_verl_sft_loss():
    model_output, data, _, _ = jagged_batch(0, dp_size=2, batch_num_tokens=40)
    ours, _ = make_loss_fn(PearLossConfig(enable=False))(model_output=model_output, data=data)
    verls, _ = sft_loss(config=None, model_output=model_output, data=data)
    torch.testing.assert_close(ours, verls, rtol=1e-6, atol=1e-6)


def test_unit_weights_equal_verl_sft_loss():
    """Behaviour log-probs equal to the model's own: δ = 0, γ = 1 -> G = 1 -> exactly plain SFT."""
    model_output, data, values, _ = jagged_batch(1)
    lengths = model_output["log_probs"].offsets().diff().tolist()
    same = torch.nested.as_nested_tensor(list(values.detach().roll(1).split(lengths)), layout=torch.jagged)
    data["behavior_log_probs"] = same  # stored unrolled, like loss_mask
    for variant in ("sequence", "token", "block"):
        cfg = PearLossConfig(weights=WeightConfig(variant=variant, block_size=3, ratio_clip=(-0.08, 0.3)))
        ours, metrics = make_loss_fn(cfg)(model_output=model_output, data=data)
        verls, _ = sft_loss(config=None, model_output=model_output, data=data)
        torch.testing.assert_close(ours, verls, rtol=1e-6, atol=1e-6)
        assert metrics["pear_stats/sum_w"] == pytest.approx(metrics["pear_stats/n"])


CONFIGS = [
    PearLossConfig(weights=PAPER),
    PearLossConfig(objective="dft", weights=PAPER),
    PearLossConfig(weights=WeightConfig(variant="sequence", ratio_clip=(-0.5, 0.5))),
    PearLossConfig(weights=WeightConfig(variant="block", block_size=4, gamma=0.9, log_weight_clip=(-3.0, 1.0))),
    PearLossConfig(objective="dft", weights=WeightConfig(variant="token", gamma=0.95)),
    PearLossConfig(enable=False, objective="dft"),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c.objective}-{c.enable}-{c.weights.variant}")
@pytest.mark.parametrize("seed", range(3))
def test_loss_matches_loop_reference(cfg, seed):
    model_output, data, _, rows = jagged_batch(seed, dp_size=4, batch_num_tokens=123)
    ours, _ = make_loss_fn(cfg)(model_output=model_output, data=data)
    assert ours.item() == pytest.approx(reference_loss(rows, cfg, 123, 4), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("objective", ["nll", "dft"])
def test_gradient_flows_only_through_base_loss(objective):
    """d loss / d log p_t = sg(G_t) · dℓ_t/d log p_t / N: the weights carry no gradient."""
    cfg = PearLossConfig(objective=objective, weights=WeightConfig(variant="token", gamma=0.9))
    model_output, data, values, rows = jagged_batch(5, batch_num_tokens=50)
    loss, _ = make_loss_fn(cfg)(model_output=model_output, data=data)
    loss.backward()
    expected = []
    for lp, blp, mask in rows:
        logw = reference_log_weights([lp], [blp], [mask], "token", 0.9, 1, None, None)[0]
        for t, m in enumerate(mask):
            dbase = -1.0 if objective == "nll" else -math.exp(lp[t])
            expected.append(math.exp(logw[t]) * dbase / 50 if m else 0.0)
    torch.testing.assert_close(values.grad, torch.tensor(expected), rtol=1e-5, atol=1e-7)


def test_self_normalize_leaves_the_micro_batch_loss_raw():
    """Self-normalisation is global (pear_verl.training.trainer rescales the step's gradients by N / ΣG, tested end to end in
    tests/integration/test_sft_layout.py): the micro-batch loss and its statistics stay those of the raw weights."""
    torch.manual_seed(0)
    model_output, data, _, _ = jagged_batch(2, batch_num_tokens=77)
    raw, raw_metrics = make_loss_fn(PearLossConfig(weights=WeightConfig(variant="token")))(model_output=model_output, data=data)
    torch.manual_seed(0)
    model_output, data, _, _ = jagged_batch(2, batch_num_tokens=77)
    normed, metrics = make_loss_fn(PearLossConfig(weights=WeightConfig(variant="token"), self_normalize=True))(model_output=model_output, data=data)
    assert normed.item() == raw.item() and metrics == raw_metrics


def test_metrics_reduce_to_global_batch_statistics():
    cfg = PearLossConfig(weights=PAPER)
    fn = make_loss_fn(cfg)
    per_mb, all_w, all_delta, n_rclip, bases = [], [], [], 0, []
    for seed in (10, 11, 12):  # three micro-batches of one step
        model_output, data, _, rows = jagged_batch(seed)
        per_mb.append(fn(model_output=model_output, data=data)[1])
        for lp, blp, mask in rows:
            logw = reference_log_weights([lp], [blp], [mask], "token", 0.999, 1, (-0.08, 0.3), (-10.0, 5.0))[0]
            for t, m in enumerate(mask):
                if m:
                    d = lp[t] - blp[t]
                    all_w.append(math.exp(logw[t]))
                    all_delta.append(d)
                    n_rclip += d < -0.08 or d > 0.3
                    bases.append(-lp[t])
    merged = {k: [m[k] for m in per_mb] for k in per_mb[0]}
    merged["other"] = 1.0
    out = reduce_pear_stats(merged)
    n = len(all_w)
    assert out["pear/trainable_tokens"] == n
    assert out["pear/weight_mean"] == pytest.approx(sum(all_w) / n)
    assert out["pear/weight_max"] == pytest.approx(max(all_w))
    assert out["pear/ess"] == pytest.approx(sum(all_w) ** 2 / (n * sum(w * w for w in all_w)))
    assert out["pear/ratio_clip_frac"] == pytest.approx(n_rclip / n)
    assert out["pear/delta_mean"] == pytest.approx(sum(all_delta) / n)
    assert out["pear/base_loss"] == pytest.approx(sum(bases) / n, rel=1e-6)
    assert 0 < out["pear/ess"] <= 1
    assert merged == {"other": 1.0}  # stats keys are consumed, others left alone


def test_weight_clip_fraction_counts_clipped_log_weights():
    cfg = PearLossConfig(weights=WeightConfig(variant="sequence", log_weight_clip=(-0.01, 0.01)))
    model_output, data, _, rows = jagged_batch(3)
    _, metrics = make_loss_fn(cfg)(model_output=model_output, data=data)
    want = 0
    for lp, blp, mask in rows:
        total = sum(lp[t] - blp[t] for t, m in enumerate(mask) if m)
        want += sum(mask) * (abs(total) > 0.01)
    assert metrics["pear_stats/n_weight_clipped"] == want


def test_config_from_hydra_block():
    cfg = PearLossConfig.from_config(
        dict(enable=True, objective="dft", variant="block", gamma=0.99, block_size=4, ratio_clip=[-0.08, 0.3], log_weight_clip=None)
    )
    assert cfg.weights == WeightConfig("block", 0.99, 4, (-0.08, 0.3), None) and cfg.objective == "dft"
    with pytest.raises(ValueError, match="objective"):
        PearLossConfig.from_config(dict(objective="kl"))


@pytest.mark.parametrize(
    "key,value,allowed",
    [
        ("enable", "no", "must be true or false"),  # bool("no") is True: this trained PEAR as the baseline
        ("enable", "false", "must be true or false"),
        ("enable", 0, "must be true or false"),
        ("self_normalize", "yes", "must be true or false"),
        ("objective", "kl", "must be one of nll, dft"),
        ("variant", "foo", "must be one of sequence, token, block"),
        ("gamma", 2, r"must be in \(0, 1\]"),
        ("gamma", 0.0, r"must be in \(0, 1\]"),
        ("gamma", "0.9", r"must be a number in \(0, 1\]"),
        ("block_size", 2.5, "must be an integer >= 1"),
        ("block_size", 0, "must be >= 1"),
        ("ratio_clip", [0.3, -0.08], "lo <= hi"),
        ("log_weight_clip", [5.0], r"must be \[lo, hi\]"),
        ("log_weight_clip", "[-10, 5]", r"must be \[lo, hi\]"),
    ],
)
def test_config_values_are_strict_and_named(key, value, allowed):
    with pytest.raises(ValueError, match=rf"^pear\.{key}=.*: .*{allowed}") as err:
        PearLossConfig.from_config({key: value})
    assert str(err.value).startswith(f"pear.{key}={value!r}")


def test_config_accepts_hydra_typed_values():
    from omegaconf import OmegaConf

    block = OmegaConf.create("{enable: false, self_normalize: true, gamma: 1, block_size: 2, ratio_clip: [-1, 1], log_weight_clip: null}")
    cfg = PearLossConfig.from_config(block)
    assert (cfg.enable, cfg.self_normalize, cfg.weights.gamma, cfg.weights.ratio_clip) == (False, True, 1.0, (-1.0, 1.0))
