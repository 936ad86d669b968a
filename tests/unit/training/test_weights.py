"""pear_verl.training.weights against a plain, loop-based transcription of docs/method.md on ragged batches."""

import math
import random

import pytest
import torch

from pear_verl.training.weights import WeightConfig, compact_log_weights, pear_log_weights
from tests.reference import reference_log_weights


def random_batch(rng, B, L, p_mask=0.6, multi_turn=False):
    lp = -torch.rand(B, L, dtype=torch.float64) * 3
    blp = -torch.rand(B, L, dtype=torch.float64) * 3
    mask = torch.zeros(B, L, dtype=torch.bool)
    for b in range(B):
        length = rng.randint(0, L)  # ragged, may be empty
        if multi_turn:  # alternating prompt/assistant spans
            i, train = 0, False
            while i < length:
                span = rng.randint(1, 4)
                mask[b, i : min(i + span, length)] = train
                i, train = i + span, not train
        else:
            mask[b, :length] = torch.tensor([rng.random() < p_mask for _ in range(length)], dtype=torch.bool)
    return lp, blp, mask


CASES = [
    dict(variant="sequence", gamma=1.0, block_size=1, ratio_clip=None, log_weight_clip=None),
    dict(variant="token", gamma=1.0, block_size=1, ratio_clip=None, log_weight_clip=None),
    dict(variant="token", gamma=0.9, block_size=1, ratio_clip=(-0.08, 0.3), log_weight_clip=(-10.0, 5.0)),
    dict(variant="block", gamma=0.999, block_size=4, ratio_clip=(-0.08, 0.3), log_weight_clip=(-10.0, 5.0)),
    dict(variant="block", gamma=0.8, block_size=3, ratio_clip=None, log_weight_clip=(-1.0, 0.5)),
    dict(variant="sequence", gamma=0.5, block_size=1, ratio_clip=(-0.5, 0.2), log_weight_clip=(-2.0, 1.0)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['variant']}-g{c['gamma']}-B{c['block_size']}")
@pytest.mark.parametrize("multi_turn", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_matches_loop_reference(case, multi_turn, seed):
    rng = random.Random(seed)
    lp, blp, mask = random_batch(rng, B=7, L=23, multi_turn=multi_turn)
    got = pear_log_weights(lp, blp, mask, **case)
    want = torch.tensor(reference_log_weights(lp.tolist(), blp.tolist(), mask.tolist(), **case), dtype=torch.float64)
    torch.testing.assert_close(got[mask], want[mask], rtol=0, atol=1e-10)
    assert got.dtype == torch.float64


def test_single_token_and_empty_rows():
    lp = torch.tensor([[-1.0, -2.0, 0.0], [-0.5, 0.0, 0.0], [0.0, 0.0, 0.0]])
    blp = torch.tensor([[-1.5, -1.0, 0.0], [-0.1, 0.0, 0.0], [0.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, False, False], [False, False, False]])
    # T = 1: the suffix after the only token is empty, so the token variant's weight is exactly 1.
    tok = pear_log_weights(lp, blp, mask, variant="token", gamma=0.9)
    assert tok[1, 0].item() == 0.0
    # Row 0, t = 1: suffix = δ_2 = -2 - (-1) = -1, discounted once by γ.
    assert tok[0, 0].item() == pytest.approx(math.log(0.9) - 1.0)
    seq = pear_log_weights(lp, blp, mask, variant="sequence")
    assert seq[0, 0].item() == pytest.approx(0.5 - 1.0) and seq[1, 0].item() == pytest.approx(-0.4)
    assert torch.isfinite(tok).all() and torch.isfinite(seq).all()


def test_block_edge_cases():
    rng = random.Random(7)
    lp, blp, mask = random_batch(rng, B=5, L=17)
    T_max = int(mask.sum(1).max())
    token = pear_log_weights(lp, blp, mask, variant="token", gamma=0.95)
    block1 = pear_log_weights(lp, blp, mask, variant="block", block_size=1, gamma=0.95)
    torch.testing.assert_close(token, block1, rtol=0, atol=0)
    # B >= T: one block per sample, so every weight is exp(0) = 1 (plain SFT).
    big = pear_log_weights(lp, blp, mask, variant="block", block_size=T_max, gamma=0.9)
    assert (big[mask] == 0).all()


def test_clip_flags_and_values():
    delta = torch.tensor([-1.0, 0.0, 0.5, 0.1])
    cfg = WeightConfig(variant="sequence", ratio_clip=(-0.08, 0.3), log_weight_clip=(-10.0, 0.2))
    out = compact_log_weights(delta, torch.tensor([4]), cfg)
    assert out.ratio_clipped.tolist() == [True, False, True, False]
    # sum of clipped deltas = -0.08 + 0 + 0.3 + 0.1 = 0.32 > 0.2 -> clipped to 0.2 everywhere.
    assert out.log_weights.tolist() == pytest.approx([0.2] * 4)
    assert out.weight_clipped.all()
    torch.testing.assert_close(out.delta, delta.double())


def test_low_precision_inputs_are_promoted():
    rng = random.Random(3)
    lp, blp, mask = random_batch(rng, B=4, L=40)
    got = pear_log_weights(lp.bfloat16(), blp.bfloat16(), mask, variant="token")
    want = torch.tensor(
        reference_log_weights(lp.bfloat16().tolist(), blp.bfloat16().tolist(), mask.tolist(), "token", 1.0, 1, None, None),
        dtype=torch.float64,
    )
    assert got.dtype == torch.float64
    torch.testing.assert_close(got[mask], want[mask], rtol=0, atol=1e-9)


def test_output_is_detached():
    lp = torch.randn(2, 5, requires_grad=True)
    out = pear_log_weights(lp, torch.zeros(2, 5), torch.ones(2, 5, dtype=torch.bool), variant="token")
    assert not out.requires_grad


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(variant="tokens"),
        dict(variant="token", gamma=0.0),
        dict(variant="token", gamma=1.5),
        dict(variant="block", block_size=0),
        dict(variant="token", ratio_clip=(0.3, -0.08)),
    ],
)
def test_bad_config_rejected(kwargs):
    with pytest.raises(ValueError):
        pear_log_weights(torch.zeros(1, 2), torch.zeros(1, 2), torch.ones(1, 2, dtype=torch.bool), **kwargs)
