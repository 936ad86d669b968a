"""`pear-verl report`: δ statistics and predicted PEAR weights, against loop references."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from pear_verl.behaviour.report import run_report
from pear_verl.behaviour.score import score_parquet
from pear_verl.training.data import BEHAVIOR_KEY
from tests.reference import forward_log_probs, reference_log_weights

KNOBS = {"gamma": 0.99, "block_size": 3, "ratio_clip": (-0.08, 0.3), "log_weight_clip": (-1.0, 0.5)}


def test_report_matches_loop_forward_log_probs(tiny_models, raw_parquet, tmp_path):
    scored = score_parquet(raw_parquet, tmp_path / "scored.parquet", tiny_models["teacher"], data_config={"max_length": 1024})
    report = run_report(str(scored), tiny_models["student"], str(tmp_path / "rep"), KNOBS, {"max_length": 1024})
    assert sum(b["tokens"] for b in report["length_buckets"]) == report["trainable_tokens"] and report["variant"] == "token"
    student = forward_log_probs(tiny_models["student"], str(scored))
    behavior = pd.read_parquet(scored)[BEHAVIOR_KEY]
    deltas = [s - b for lp, blp in zip(student, behavior) for s, b in zip(lp, blp)]
    assert report["trainable_tokens"] == len(deltas)
    assert report["delta"]["mean"] == pytest.approx(sum(deltas) / len(deltas), abs=1e-6)
    assert report["delta"]["q50"] == pytest.approx(float(np.median(deltas)), abs=1e-5)
    for variant in ("sequence", "token", "block"):
        weights = []
        for lp, blp in zip(student, behavior):
            logw = reference_log_weights([lp], [list(blp)], [[True] * len(lp)], variant, 0.99, 3, (-0.08, 0.3), (-1.0, 0.5))[0]
            weights += [math.exp(x) for x in logw]
        got = report["variants"][variant]
        assert got["weight_mean"] == pytest.approx(sum(weights) / len(weights), rel=1e-5)
        assert got["ess"] == pytest.approx(sum(weights) ** 2 / (len(weights) * sum(w * w for w in weights)), rel=1e-5)
    files = {p.name for p in (tmp_path / "rep").iterdir()}
    assert files == {"report.json", "report.md", "delta_hist.png"}
    assert json.loads((tmp_path / "rep" / "report.json").read_text())["rows"] == 16
    assert (tmp_path / "rep" / "delta_hist.png").read_bytes()[:4] == b"\x89PNG"
