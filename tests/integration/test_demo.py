"""The README's main command at its smallest size (`python -m pear_verl.demo --quick`): every stage runs
through the real entry points, writes its artefact, the report carries computed verdict lines and its
pictures, and a second invocation resumes without redoing any training."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from reward_fns.games import get_game

pytestmark = pytest.mark.integration

EVALS = ["teacher", "base", "sft_s0_sft", "sft_s0_rl", "pear_s0_sft", "pear_s0_rl"]


def test_quick_demo_runs_the_whole_chain_and_resumes(tmp_path):
    cmd = [sys.executable, "-m", "pear_verl.demo", "--quick", "--workdir", str(tmp_path)]
    first = subprocess.run(cmd, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "== [1/9 " in first.stdout and "== [9/9 " in first.stdout  # progress lines

    behaviour = pd.read_parquet(tmp_path / "data" / "teacher_sft.parquet")
    assert {"messages", "behavior_log_probs", "reward"} <= set(behaviour.columns)
    game = get_game("countdown")
    canon = lambda f: {game.canonical(json.loads(r["ground_truth"])) for r in f["reward_model"]}  # noqa: E731
    train, test = (pd.read_parquet(tmp_path / "data" / f"{s}.parquet") for s in ("train", "test"))
    assert not canon(train) & canon(test)
    assert " -> " in test["prompt"].iloc[0][0]["content"]  # the compact prompt
    for name in EVALS:
        results = json.loads((tmp_path / "eval" / name / "results.json").read_text())
        assert results["benchmarks"]["countdown"]["problems"] == 16
    delta = json.loads((tmp_path / "delta" / "report.json").read_text())["delta"]
    assert delta["std"] > 0  # the base student is not the teacher: δ has spread before SFT
    report = (tmp_path / "report.md").read_text()
    assert "PEAR − SFT post-RL pass@1: " in report and "(1 seed): no seed spread" in report
    assert "| pear | post-RL | 1 |" in report and "GRPO" in report
    for picture in ("grpo_reward.png", "pass_at_k.png", "pear_weights.png", "delta/delta_hist.png"):
        assert f"]({picture})" in report and (tmp_path / picture).stat().st_size > 0

    assert "Command: `python -m pear_verl.demo --quick --workdir " in report and "1 intra-op thread(s)" in report

    # $OMP_NUM_THREADS does not change the run (the thread count changes the numbers): it resumes as it was
    second = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert second.stdout.count("[skip]") == 6  # teacher, base, two students, two GRPO runs
    assert "$ " not in second.stdout  # no training command was launched again
    other = subprocess.run([*cmd, "--threads", "2"], capture_output=True, text=True)
    assert other.returncode != 0 and "made with --threads 1, not --threads 2" in other.stderr
    assert "$ " not in other.stdout
