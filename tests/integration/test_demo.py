"""The README's main command at its smallest size (`python -m pear_verl.demo --quick`): every stage runs
through the real entry points, writes its artefact, and a second invocation resumes without redoing any."""

import json
import subprocess
import sys

import pandas as pd
import pytest

pytestmark = pytest.mark.integration

MODELS = ["teacher", "sft", "pear", "sft+grpo", "pear+grpo"]


def test_quick_demo_runs_the_whole_chain_and_resumes(tmp_path):
    cmd = [sys.executable, "-m", "pear_verl.demo", "--quick", "--workdir", str(tmp_path)]
    first = subprocess.run(cmd, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]

    behaviour = pd.read_parquet(tmp_path / "data" / "teacher_sft.parquet")
    assert {"messages", "behavior_log_probs", "reward"} <= set(behaviour.columns)
    for name in MODELS:
        results = json.loads((tmp_path / "eval" / name / "results.json").read_text())
        assert results["benchmarks"]["knights_knaves"]["problems"] == 16
    table = (tmp_path / "eval" / "compare.md").read_text()
    assert all(f" {name} " in table for name in MODELS)
    assert (tmp_path / "eval" / "compare.png").stat().st_size > 0
    report = (tmp_path / "report.md").read_text()
    assert "| pear | 10 |" in report and "| pear+grpo |" in report

    second = subprocess.run(cmd, capture_output=True, text=True)
    assert second.returncode == 0
    assert second.stdout.count("[skip]") == 5  # teacher, two students, two GRPO runs
    assert "$ " not in second.stdout  # no training command was launched again
