"""The headline recipes for real on CPU (`scripts/recipe_cpu.sh`): recipes/qwen3_pear.sh and qwen3_sft.sh end to
end with tiny local models, vLLM in generate, GRPO (verl's vLLM rollout) and eval, then `pear-verl compare`.

The first run is killed (SIGTERM to its process group) once GRPO has written its first checkpoint; the rerun
resumes GRPO from that checkpoint and finishes both recipes. Asserted: every stage's output, the PEAR/SFT
difference, the resume, and that no shared-memory segment is left in /dev/shm. The GRPO runs are verl's
vLLM rollout under test: every logged reward equals `compute_score` of the dumped generated text, and after
an update the rollout engine's log-probs match the actor's (`training/rollout_probs_diff_max`; the control
run in test_grpo_cpu.py shows this check fails when vLLM skips weight syncs)."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pear_verl.behaviour.generate import read_generation_metadata
from pear_verl.cpu_runtime.shm_guard import leaks, segments
from pear_verl.training.data import BEHAVIOR_KEY
from reward_fns import compute_score
from tests.integration.test_grpo_cpu import SYNC_TOLERANCE

GAME = "countdown"  # scripts/recipe_cpu.sh's TASK

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def recipe(out: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DUMP_ROLLOUTS": "true",
           "GRPO_EXTRA": "actor_rollout_ref.rollout.calculate_log_probs=True"}
    return subprocess.Popen(["bash", str(ROOT / "scripts" / "recipe_cpu.sh"), str(out)], cwd=ROOT, env=env,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)


def test_both_recipes_run_on_cpu_and_a_killed_grpo_resumes(tmp_path):
    out, before = tmp_path / "run", segments()
    first = recipe(out, tmp_path / "first.log")
    tracker = out / "pear" / "grpo" / "latest_checkpointed_iteration.txt"
    deadline = time.monotonic() + 1200
    while not tracker.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert tracker.exists(), (tmp_path / "first.log").read_text()[-5000:]
    os.killpg(first.pid, signal.SIGTERM)
    first.wait(timeout=120)
    assert not (out / "pear" / "grpo" / ".recipe_done").exists()
    killed_at = int(tracker.read_text())  # saved when the recipe died (Ray workers may still save one more)

    second = recipe(out, tmp_path / "second.log")
    assert second.wait(timeout=1800) == 0, (tmp_path / "second.log").read_text()[-6000:]
    log = (tmp_path / "second.log").read_text()
    resumed = re.search(rf"Resuming from {re.escape(str(out / 'pear' / 'grpo'))}/global_step_(\d+), setting global step to (\d+)", log)
    assert resumed and resumed[1] == resumed[2], log[-3000:]  # GRPO resumed from its checkpoint ...
    assert killed_at <= int(resumed[1]) < 3  # ... the one the killed run left, with steps still to do
    for stage in ("data", "behavior", "sft"):
        assert f"[skip] {stage}" in log
    # PEAR's SFT logged its weight metrics (first run); the baseline's SFT (second run) has none.
    assert "pear/ess" in (tmp_path / "first.log").read_text() and "pear/ess" not in log

    data = out / "data"
    sft = pd.read_parquet(data / "sft.parquet")
    assert len(sft) > 0 and all(len(v) > 0 for v in sft[BEHAVIOR_KEY])
    assert read_generation_metadata(data / "sft.parquet")["backend"] == "vllm"
    for arm, pear in (("pear", True), ("sft", False)):
        work = out / arm
        assert (work / "sft" / ".recipe_done").exists() and (work / "grpo" / ".recipe_done").exists()
        assert (work / "grpo" / "latest_checkpointed_iteration.txt").read_text().strip() == "3"
        assert (work / "rl_model" / "config.json").exists()
        config = json.loads((work / "sft" / "global_step_4" / "huggingface" / "config.json").read_text())
        assert config["model_type"] == "qwen2"
        for which in ("sft", "rl"):
            results = json.loads((work / f"eval_{which}" / "results.json").read_text())
            assert results["settings"]["backend"] == "vllm"
            assert results["benchmarks"][GAME]["problems"] == 8
        metrics = [json.loads(line) for line in (out / "metrics" / "pear_verl" / f"{arm}_grpo.jsonl").read_text().splitlines()]
        last = [m["data"] for m in metrics if m["step"] == 3 and "training/rollout_probs_diff_max" in m["data"]]
        assert last and last[0]["training/rollout_probs_diff_max"] < SYNC_TOLERANCE and "actor/kl_loss" in last[0]
        dumps = sorted((work / "grpo_rollouts").glob("*.jsonl"))  # the killed PEAR run: steps 2-3 after the resume
        rows = [json.loads(line) for path in dumps for line in path.read_text().splitlines()]
        assert rows and all(row["output"] for row in rows)
        for row in rows:
            assert row["score"] == compute_score(f"game/{GAME}", row["output"], row["gts"])["score"]
    compare = (out / "compare" / "compare.md").read_text()
    assert f"| {GAME} | pass@1 |" in compare and (out / "compare" / "compare.png").exists()
    assert not leaks(before), "shared-memory segments left in /dev/shm"
