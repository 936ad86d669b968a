"""preflight: per-length weight statistics against the loop reference, and the long-trace collapse the
pre-flight exists to catch (drift ±0.003 per token on 16K-token traces, as measured in the issue)."""

import math

import numpy as np
import pytest

from pear_verl.behaviour import preflight
from pear_verl.training.weights import WeightConfig
from tests.reference import reference_log_weights

PAPER = WeightConfig(variant="token", gamma=0.999, block_size=4, ratio_clip=(-0.08, 0.3), log_weight_clip=(-10.0, 5.0))


def backward_token_log_weights(d, cfg):
    """Token variant in one backward pass (O(T), for 16K-token rows): log G_t = (T − t)·log γ + Σ_{j>t} δ̃_j."""
    out, suffix = [0.0] * len(d), 0.0
    for t in range(len(d) - 1, -1, -1):
        out[t] = min(max(suffix, cfg.log_weight_clip[0]), cfg.log_weight_clip[1])
        suffix += min(max(d[t], cfg.ratio_clip[0]), cfg.ratio_clip[1]) + math.log(cfg.gamma)
    return out


def loop_bucket_stats(delta, counts, cfg, fast=False):
    """Plain loops: weights row by row with the docs/method.md reference (or its O(T) token form), then per-bucket sums."""
    per_bucket = {}
    start = 0
    for T in counts:
        d = list(delta[start : start + T])
        start += T
        if fast:
            logw = backward_token_log_weights(d, cfg)
        else:
            logw = reference_log_weights([d], [[0.0] * T], [[True] * T], cfg.variant, cfg.gamma, cfg.block_size, cfg.ratio_clip, cfg.log_weight_clip)[0]
        b = sum(1 for edge in preflight.BUCKETS[1:] if T >= edge)
        acc = per_bucket.setdefault(b, {"rows": 0, "w": [], "lo": 0, "hi": 0, "below": 0, "above": 0})
        acc["rows"] += 1
        for x, lw in zip(d, logw):
            acc["w"].append(math.exp(lw))
            acc["lo"] += lw <= cfg.log_weight_clip[0]
            acc["hi"] += lw >= cfg.log_weight_clip[1]
            acc["below"] += x < cfg.ratio_clip[0]
            acc["above"] += x > cfg.ratio_clip[1]
    out = []
    for b in sorted(per_bucket):
        a, n = per_bucket[b], len(per_bucket[b]["w"])
        out.append({"bucket": preflight.bucket_label(b), "rows": a["rows"], "tokens": n, "token_share": n / len(delta), "ess": sum(a["w"]) ** 2 / (n * sum(w * w for w in a["w"])),
                    "at_weight_lo": a["lo"] / n, "at_weight_hi": a["hi"] / n, "ratio_below": a["below"] / n, "ratio_above": a["above"] / n})
    return out


def test_backward_loop_is_the_reference():
    rng = np.random.default_rng(3)
    d = list(rng.normal(0.0, 0.1, 50))
    cfg = WeightConfig(variant="token", gamma=0.97, ratio_clip=(-0.1, 0.05), log_weight_clip=(-0.5, 0.2))
    want = reference_log_weights([d], [[0.0] * 50], [[True] * 50], "token", 0.97, 1, (-0.1, 0.05), (-0.5, 0.2))[0]
    assert backward_token_log_weights(d, cfg) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("variant,block", [("token", 1), ("block", 4), ("sequence", 1)])
def test_bucket_stats_match_the_loop_reference(variant, block):
    rng = np.random.default_rng(7)
    counts = np.array([1, 3, 255, 256, 300, 1023, 1024, 1500, 2], dtype=np.int64)
    delta = rng.normal(-0.02, 0.2, counts.sum())
    cfg = WeightConfig(variant=variant, gamma=0.99, block_size=block, ratio_clip=(-0.1, 0.15), log_weight_clip=(-3.0, 1.0))
    got = preflight.bucket_stats(delta, counts, cfg)
    want = loop_bucket_stats(delta, counts, cfg)
    assert [g["bucket"] for g in got] == [w["bucket"] for w in want] == ["0-255", "256-1023", "1024-4095"]
    for g, w in zip(got, want):
        for key, value in w.items():
            assert g[key] == (value if key == "bucket" else pytest.approx(value, rel=1e-9, abs=1e-12)), (g["bucket"], key)


def traces(drift: float, long_rows: int = 6, short_rows: int = 60, seed: int = 0):
    """Rows of 16,384 and of 500 trainable tokens whose δ drifts by `drift` per token (plus noise)."""
    rng = np.random.default_rng(seed)
    counts = np.array([16_384] * long_rows + [500] * short_rows, dtype=np.int64)
    return drift + rng.normal(0.0, 0.005, counts.sum()), counts


@pytest.mark.parametrize("drift,bound", [(0.003, "at_weight_hi"), (-0.003, "at_weight_lo")])
def test_long_traces_saturate_with_the_paper_knobs_and_short_ones_do_not(drift, bound):
    delta, counts = traces(drift)
    buckets = {b["bucket"]: b for b in preflight.bucket_stats(delta, counts, PAPER)}
    long, short = buckets[">=16384"], buckets["256-1023"]
    assert long[bound] > 0.8  # most of each long trace pinned to one clip bound
    assert short[bound] == 0 and short["ess"] > 0.5
    reasons = preflight.degenerate(list(buckets.values()))
    assert len(reasons) == 1 and reasons[0].startswith("rows of >=16384 trainable tokens")


def test_a_proposal_meets_the_targets_when_one_exists():
    delta, counts = traces(0.003)
    proposal = preflight.propose(delta, counts, PAPER)
    assert proposal["knobs"] is not None
    knobs = WeightConfig(variant="token", gamma=proposal["knobs"]["gamma"], block_size=4,
                         ratio_clip=tuple(proposal["knobs"]["ratio_clip"]), log_weight_clip=(-10.0, 5.0))
    assert preflight.meets_targets(loop_bucket_stats(delta, counts, knobs, fast=True))  # checked by a loop reference
    assert proposal["knobs"]["gamma"] < PAPER.gamma  # a discount that cancels the upward drift


def test_knobs_that_already_meet_the_targets_are_kept():
    rng = np.random.default_rng(1)
    counts = np.full(40, 300, dtype=np.int64)
    proposal = preflight.propose(rng.normal(0.0, 0.02, counts.sum()), counts, PAPER)
    assert proposal["tried"] == 1 and proposal["knobs"] == {"gamma": PAPER.gamma, "ratio_clip": list(PAPER.ratio_clip)}


def test_row_sample_is_seeded_and_bounded():
    counts = np.full(1000, 5000, dtype=np.int64)
    rows = preflight.sample_rows(counts, max_tokens=100_000)
    assert np.array_equal(rows, preflight.sample_rows(counts, max_tokens=100_000))
    assert 19 <= len(rows) <= 21 and np.all(np.diff(rows) > 0)
