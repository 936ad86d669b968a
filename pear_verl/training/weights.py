"""PEAR importance weights: the math of docs/method.md, vectorised, with no loop over tokens.

Why: PEAR re-weights each trainable token's SFT loss by G_t, a (clipped, discounted) product of
per-decision importance ratios π_θ/π_β over the tokens *after* t. Everything here works in log space,
in float64, on detached inputs.

Notation (per sample, trainable tokens only, in order t = 1..T):
    δ_t  = log π_θ(y_t) − log π_β(y_t),   δ̃_t = clip(δ_t, c_lo, c_hi)
    sequence:  log G_t = Σ_{j=1..T} δ̃_j
    token:     log G_t = (T − t)·log γ + Σ_{j>t} δ̃_j
    block B:   log G_t = (T − e_k)·log γ + Σ_{j>e_k} δ̃_j   (e_k = last index of t's block of B tokens)
    then log G_t ← clip(log G_t, w_lo, w_hi).

Two entry points:
- `pear_log_weights` — the public, padded `[B, L]` contract.
- `compact_log_weights` — the form the verl loss uses: only trainable tokens, concatenated sample by
  sample (`delta [N]`, `counts [B]`). Both share one implementation.

Run the tests: `pytest tests/unit/training/test_weights.py` (checks against a plain loop reference).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

VARIANTS = ("sequence", "token", "block")
Bounds = Optional[tuple[float, float]]


@dataclass(frozen=True)
class WeightConfig:
    """PEAR weighting knobs (docs/method.md defaults: token, γ=0.999, clips [−0.08, 0.3] and [−10, 5])."""

    variant: str = "token"
    gamma: float = 1.0
    block_size: int = 1
    ratio_clip: Bounds = None
    log_weight_clip: Bounds = None

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"PEAR variant must be one of {VARIANTS}, got {self.variant!r}")
        if not (0.0 < self.gamma <= 1.0):
            raise ValueError(f"PEAR gamma must be in (0, 1], got {self.gamma}")
        if int(self.block_size) != self.block_size or self.block_size < 1:
            raise ValueError(f"PEAR block_size must be an integer >= 1, got {self.block_size}")
        for name in ("ratio_clip", "log_weight_clip"):
            bounds = getattr(self, name)
            if bounds is None:
                continue
            if len(bounds) != 2 or not (float(bounds[0]) <= float(bounds[1])):
                raise ValueError(f"PEAR {name} must be (lo, hi) with lo <= hi, got {bounds}")
            object.__setattr__(self, name, (float(bounds[0]), float(bounds[1])))


@dataclass
class CompactWeights:
    """Result of `compact_log_weights`; every tensor is `[N]` over trainable tokens."""

    log_weights: Tensor  # float64, clipped log G_t
    delta: Tensor  # float64, raw δ_t (before the ratio clip)
    ratio_clipped: Tensor  # bool, δ_t was outside [c_lo, c_hi]
    weight_clipped: Tensor  # bool, log G_t was outside [w_lo, w_hi]


def _clip(x: Tensor, bounds: Bounds) -> tuple[Tensor, Tensor]:
    if bounds is None:
        return x, torch.zeros_like(x, dtype=torch.bool)
    lo, hi = bounds
    return x.clamp(lo, hi), (x < lo) | (x > hi)


def compact_log_weights(delta: Tensor, counts: Tensor, cfg: WeightConfig) -> CompactWeights:
    """PEAR log-weights for trainable tokens laid out sample after sample.

    Args:
        delta: `[N]` δ_t of every trainable token, samples concatenated in order (any float dtype;
            detached and promoted to float64 here).
        counts: `[B]` integer number of trainable tokens per sample (T_i), `counts.sum() == N`; zeros
            are allowed (a sample with no trainable token contributes nothing).
        cfg: the weighting knobs.

    Returns:
        `CompactWeights` with `[N]` tensors.
    """
    delta = delta.detach().to(torch.float64)
    counts = counts.to(device=delta.device, dtype=torch.long)
    if int(counts.sum()) != delta.numel():
        raise ValueError(f"counts sum to {int(counts.sum())} but delta has {delta.numel()} tokens")

    clipped, ratio_clipped = _clip(delta, cfg.ratio_clip)

    # prefix[k] = sum of the first k clipped deltas over the whole batch (prefix[0] = 0).
    prefix = torch.cat([clipped.new_zeros(1), torch.cumsum(clipped, 0)])
    start = torch.cumsum(counts, 0) - counts  # [B] first compact index of each sample
    # [N] per-token copies of the sample's start, end (one past its last token) and length T.
    start_t = torch.repeat_interleave(start, counts)
    count_t = torch.repeat_interleave(counts, counts)
    end_t = start_t + count_t

    if cfg.variant == "sequence":
        log_w = prefix.index_select(0, end_t) - prefix.index_select(0, start_t)
    else:
        block = 1 if cfg.variant == "token" else int(cfg.block_size)
        rank = torch.arange(delta.numel(), device=delta.device) - start_t  # 0-based position among trainable
        # e = 1-based index of the last token in this token's block (the last block may be shorter).
        block_end = torch.minimum((rank // block + 1) * block, count_t)
        log_w = prefix.index_select(0, end_t) - prefix.index_select(0, start_t + block_end)
        if cfg.gamma < 1.0:
            log_w = log_w + (count_t - block_end).to(torch.float64) * math.log(cfg.gamma)

    log_w, weight_clipped = _clip(log_w, cfg.log_weight_clip)
    return CompactWeights(log_w, delta, ratio_clipped, weight_clipped)


def pear_log_weights(
    log_probs: Tensor,
    behavior_log_probs: Tensor,
    mask: Tensor,
    *,
    variant: str,
    gamma: float = 1.0,
    block_size: int = 1,
    ratio_clip: Bounds = None,
    log_weight_clip: Bounds = None,
) -> Tensor:
    """PEAR log-weights log G_t on padded batches.

    Args:
        log_probs: `[B, L]` log π_θ of each token (detached here).
        behavior_log_probs: `[B, L]` log π_β of each token.
        mask: `[B, L]` bool, True = trainable token. Positions are counted among trainable tokens
            only, so prompt tokens in between (multi-turn) neither get a weight nor enter any sum.
        variant, gamma, block_size, ratio_clip, log_weight_clip: see `WeightConfig`.

    Returns:
        `[B, L]` float64 log-weights, detached; 0 at masked-out positions.
    """
    cfg = WeightConfig(variant, gamma, block_size, ratio_clip, log_weight_clip)
    mask = mask.to(torch.bool)
    if not (log_probs.shape == behavior_log_probs.shape == mask.shape) or mask.dim() != 2:
        raise ValueError(
            f"expected equal [B, L] shapes, got {tuple(log_probs.shape)}, "
            f"{tuple(behavior_log_probs.shape)}, {tuple(mask.shape)}"
        )
    delta = log_probs.detach().to(torch.float64)[mask] - behavior_log_probs.detach().to(torch.float64)[mask]
    result = compact_log_weights(delta, mask.sum(dim=1), cfg)
    out = torch.zeros(mask.shape, dtype=torch.float64, device=log_probs.device)
    out[mask] = result.log_weights
    return out
