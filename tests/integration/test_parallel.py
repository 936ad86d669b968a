"""`generate`, `score` and `eval` on 2 Ray CPU workers equal 1 worker; a worker that dies has its shard redone.

The equality tests share one local Ray cluster (2 logical CPUs, a small object store); the crash test runs
the CLI in a subprocess, which starts and stops its own cluster with the crash marker in its environment.
Every cluster is shut down at the end (`ray.shutdown`), and the subprocess leaves no Ray process behind.
"""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from pear_verl.behaviour.generate import GenerationSettings, generate
from pear_verl.behaviour.score import ScoreSettings, score_parallel
from pear_verl.common.parallel import CRASH_ONCE_ENV, LOCAL_OBJECT_STORE_BYTES
from pear_verl.evaluation.evaluate import run_eval
from pear_verl.evaluation.rl_data import make_game_data
from pear_verl.training.data import BEHAVIOR_KEY
from tests.reference import forward_log_probs

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    ray.init(num_cpus=2, object_store_memory=LOCAL_OBJECT_STORE_BYTES, include_dashboard=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def prompts(tmp_path_factory):
    out = tmp_path_factory.mktemp("prompts")
    make_game_data("countdown", 7, 1, 0, {"n_numbers": 3}, out)  # 7 rows: shards of unequal size
    return str(out / "train.parquet")


def assert_same_scored_rows(a: pd.DataFrame, b: pd.DataFrame, tolerance: float = 1e-6) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for column in a.columns:
        if column != BEHAVIOR_KEY:
            assert a[column].astype(str).tolist() == b[column].astype(str).tolist(), column
    for x, y in zip(a[BEHAVIOR_KEY], b[BEHAVIOR_KEY]):
        assert len(x) == len(y) and max(abs(x - y), default=0.0) <= tolerance


def test_score_two_workers_equal_one(tiny_models, raw_parquet, tmp_path, ray_cluster):
    settings = ScoreSettings(tiny_models["teacher"], tiny_models["teacher"])
    one = pd.read_parquet(score_parallel([raw_parquet], tmp_path / "one.parquet", settings, workers=1, chunk_rows=3))
    two_path = score_parallel([raw_parquet], tmp_path / "two.parquet", settings, workers=2, chunk_rows=3)
    two = pd.read_parquet(two_path)
    assert_same_scored_rows(one, two)
    # Against a plain loop forward, not only against ourselves.
    for got, want in zip(two[BEHAVIOR_KEY], forward_log_probs(tiny_models["teacher"], raw_parquet)):
        assert max(abs(a - b) for a, b in zip(got, want)) < 1e-5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.parquet", "two.parquet"]  # no shards or parts left
    assert score_parallel([raw_parquet], two_path, settings, workers=2) == two_path  # rerun: reused


def test_generate_two_workers_equal_one(tiny_models, prompts, tmp_path, ray_cluster):
    settings = GenerationSettings(tiny_models["teacher"], n=3, max_new_tokens=256, keep="all", seed=5)  # long enough to reach EOS
    one = pd.read_parquet(generate(prompts, tmp_path / "one.parquet", settings, chunk_prompts=2))
    two = pd.read_parquet(generate(prompts, tmp_path / "two.parquet", settings, chunk_prompts=2, workers=2))
    assert len(one) >= 2  # rescoring is split too
    assert_same_scored_rows(one, two)


def test_eval_two_workers_equal_one(tiny_models, prompts, tmp_path, ray_cluster):
    settings = GenerationSettings(tiny_models["teacher"], n=4, temperature=1.0, max_new_tokens=32, seed=2)
    data = {"a": prompts, "b": prompts}
    one = run_eval(tiny_models["teacher"], data, settings, [1, 2], str(tmp_path / "one"))
    two = run_eval(tiny_models["teacher"], data, settings, [1, 2], str(tmp_path / "two"), workers=2)
    assert one["benchmarks"] == two["benchmarks"]
    assert one["benchmarks"]["a"]["problems"] == 7


def test_killed_worker_has_its_shard_redone(tiny_models, raw_parquet, tmp_path):
    marker = tmp_path / "crashed"
    env = {**os.environ, CRASH_ONCE_ENV: str(marker), "OMP_NUM_THREADS": "1"}
    out = tmp_path / "scored.parquet"
    command = [sys.executable, "-m", "pear_verl.cli", "score", raw_parquet, "--model", tiny_models["teacher"], "--out", str(out),
               "--chunk-rows", "3", "--workers", "2"]
    subprocess.run(command, env=env, check=True, timeout=300)
    assert marker.exists()  # a worker did die, after writing its first chunk
    assert int(marker.read_text()) != os.getpid()
    scored = pd.read_parquet(out)
    source = pd.read_parquet(raw_parquet)
    assert len(scored) == len(source)  # nothing lost, nothing written twice
    assert [json.dumps(list(map(dict, m))) for m in scored["messages"]] == [json.dumps(list(map(dict, m))) for m in source["messages"]]
    for got, want in zip(scored[BEHAVIOR_KEY], forward_log_probs(tiny_models["teacher"], raw_parquet)):
        assert max(abs(a - b) for a, b in zip(got, want)) < 1e-5
    assert not (tmp_path / "scored.parquet.parts").exists()
