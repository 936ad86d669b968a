"""Pre-flight for long traces: do PEAR's weights stay informative at every response length, and which
knobs would keep them so — from δ = log π_θ − log π_β of the data, before any training.

Why: log G_t sums the clipped per-token log-ratios over everything after t. On a thinking trace of thousands
of tokens a small drift in δ adds up: with the paper's knobs a drift of ±0.003 per token pins most tokens of a
16K trace to a log-weight clip bound — uniform e⁵ (PEAR ≈ plain SFT) or e⁻¹⁰ (most of the trace untrained,
ESS ≈ 0.03), while 500-token traces stay moderate. Averages over the whole file hide this; length buckets
show it.

- `bucket_stats`: per bucket of trainable tokens per row, the ESS of the token weights and the share of tokens
  at each log-weight clip bound and each ratio clip bound.
- `propose`: a grid of γ and per-token ratio clips (the log-weight clip and variant kept), plus for each clip
  the discount that cancels the data's mean upward drift (γ = exp(−mean δ̃) when mean δ̃ > 0: log G then has
  no trend along the trace), scored on a seeded sample of rows; returns the candidate closest to the given
  knobs that meets `TARGETS` in every bucket. A downward drift has no such cure (γ ≤ 1 only adds to it).
- `degenerate`: the knobs' weights are collapsed (`DEGENERATE`): the recipe can stop before SFT on it.

Run: `pear-verl report` calls these (see `pear_verl/behaviour/report.py`); tests in `tests/unit/behaviour/test_preflight.py`.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import torch

from pear_verl.training.weights import WeightConfig, compact_log_weights

# Bucket edges in trainable tokens per row; a row of T tokens falls in [edge_i, edge_{i+1}).
BUCKETS = (0, 256, 1024, 4096, 16384)
# What "informative weights" means here, in every bucket holding at least MIN_SHARE of the tokens.
TARGETS = {"ess_min": 0.5, "at_weight_bound_max": 0.10}
# Collapsed: a bucket (of at least MIN_SHARE of the tokens) whose weights are this far gone.
DEGENERATE = {"ess_below": 0.1, "at_weight_bound_above": 0.5}
MIN_SHARE = 0.01
GAMMAS = (1.0, 0.9999, 0.9995, 0.999, 0.998, 0.995, 0.99)
RATIO_CLIPS = ((-0.08, 0.3), (-0.02, 0.3), (-0.02, 0.05), (-0.005, 0.05), (-0.005, 0.01), (-0.001, 0.01))
PROPOSAL_TOKENS = 2_000_000  # rows are sampled (seeded) down to about this many tokens for the grid


def _bucket_of(counts: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.asarray(BUCKETS[1:]), counts, side="right")


def bucket_label(b: int) -> str:
    hi = BUCKETS[b + 1] if b + 1 < len(BUCKETS) else None
    return f"{BUCKETS[b]}-{hi - 1}" if hi else f">={BUCKETS[b]}"


def bucket_stats(delta: np.ndarray, counts: np.ndarray, cfg: WeightConfig) -> list[dict]:
    """Per length bucket (rows by trainable tokens): rows, tokens, ESS, share of tokens at each clip bound.

    Args:
        delta: `[N]` δ of every trainable token, rows concatenated.
        counts: `[B]` trainable tokens per row (sum N).
    """
    result = compact_log_weights(torch.from_numpy(delta), torch.from_numpy(counts), cfg)
    log_w = result.log_weights.numpy()
    w = np.exp(log_w)
    token_bucket = np.repeat(_bucket_of(counts), counts)
    row_bucket = _bucket_of(counts)
    lo_w, hi_w = cfg.log_weight_clip or (-np.inf, np.inf)
    lo_d, hi_d = cfg.ratio_clip or (-np.inf, np.inf)
    out = []
    for b in range(len(BUCKETS)):
        sel = token_bucket == b
        n = int(sel.sum())
        if n == 0:
            continue
        wb, lb, db = w[sel], log_w[sel], delta[sel]
        out.append({
            "bucket": bucket_label(b), "rows": int((row_bucket == b).sum()), "tokens": n, "token_share": n / delta.size,
            "ess": float(wb.sum() ** 2 / (n * np.square(wb).sum())),
            "at_weight_lo": float(np.mean(lb <= lo_w)), "at_weight_hi": float(np.mean(lb >= hi_w)),
            "ratio_below": float(np.mean(db < lo_d)), "ratio_above": float(np.mean(db > hi_d)),
        })
    return out


def _counted(buckets: list[dict]) -> list[dict]:
    return [b for b in buckets if b["token_share"] >= MIN_SHARE]


def meets_targets(buckets: list[dict]) -> bool:
    return all(b["ess"] >= TARGETS["ess_min"] and b["at_weight_lo"] + b["at_weight_hi"] <= TARGETS["at_weight_bound_max"] for b in _counted(buckets))


def degenerate(buckets: list[dict]) -> list[str]:
    """The buckets whose weights have collapsed, each with the reason (empty: none)."""
    bad = []
    for b in _counted(buckets):
        at_bound = b["at_weight_lo"] + b["at_weight_hi"]
        if b["ess"] < DEGENERATE["ess_below"] or at_bound > DEGENERATE["at_weight_bound_above"]:
            bad.append(f"rows of {b['bucket']} trainable tokens: ESS {b['ess']:.3f}, {at_bound:.0%} of tokens at a log-weight clip bound")
    return bad


def sample_rows(counts: np.ndarray, max_tokens: int = PROPOSAL_TOKENS, seed: int = 0) -> np.ndarray:
    """Indices of rows (sorted) drawn without replacement until about `max_tokens` tokens."""
    if counts.sum() <= max_tokens:
        return np.arange(len(counts))
    order = np.random.default_rng(seed).permutation(len(counts))
    keep = order[: max(1, int(np.searchsorted(np.cumsum(counts[order]), max_tokens)))]
    return np.sort(keep)


def propose(delta: np.ndarray, counts: np.ndarray, cfg: WeightConfig) -> dict:
    """The grid candidate nearest `cfg` (fewest knobs changed, then γ nearest, then the widest ratio clip)
    meeting `TARGETS` in every bucket, on a seeded sample of rows; `None` as "knobs" if none does."""
    rows = sample_rows(counts)
    starts = np.concatenate([[0], np.cumsum(counts)])
    sub_delta = np.concatenate([delta[starts[r] : starts[r + 1]] for r in rows]) if len(rows) < len(counts) else delta
    sub_counts = counts[rows]
    candidates = [(0, 0.0, 0.0, cfg)]  # the knobs as given come first
    drift_cancelling = {(round(float(np.exp(-m)), 6), clip) for clip in RATIO_CLIPS if (m := float(np.clip(sub_delta, *clip).mean())) > 0}
    for gamma, clip in set(itertools.product(GAMMAS, RATIO_CLIPS)) | drift_cancelling:
        knobs = replace(cfg, gamma=gamma, ratio_clip=clip)
        changed = (gamma != cfg.gamma) + (clip != cfg.ratio_clip)
        candidates.append((changed, abs(np.log(gamma) - np.log(cfg.gamma)), -(clip[1] - clip[0]), knobs))
    tried = 0
    for *_, knobs in sorted(candidates, key=lambda c: c[:3]):
        tried += 1
        buckets = bucket_stats(sub_delta, sub_counts, knobs)
        if meets_targets(buckets):
            return {"knobs": {"gamma": knobs.gamma, "ratio_clip": list(knobs.ratio_clip)}, "buckets": buckets, "tried": tried,
                    "rows_used": int(len(rows))}
    return {"knobs": None, "tried": tried, "rows_used": int(len(rows))}
