"""`pear_verl.common.parallel`: shard splitting, argument checks, the test-only crash hook; `score` refuses --workers with --shard."""

import os
import subprocess
import sys

import pytest

from pear_verl.cli import build_parser
from pear_verl.common.parallel import CRASH_ONCE_ENV, check_workers, split


@pytest.mark.parametrize("total,n", [(0, 1), (1, 2), (7, 2), (7, 3), (16, 4), (3, 5)])
def test_split_is_contiguous_in_order_and_balanced(total, n):
    groups = split(list(range(total)), n)
    assert len(groups) == n
    assert [x for g in groups for x in g] == list(range(total))  # nothing lost, duplicated or reordered
    assert max(map(len, groups)) - min(map(len, groups)) <= 1
    # The same slices as `score --shard i/n` by hand.
    assert [g for g in groups] == [list(range(total * i // n, total * (i + 1) // n)) for i in range(n)]


def test_bad_worker_settings():
    for workers, tp in ((0, 1), (2, 0)):
        with pytest.raises(ValueError, match="must be >= 1"):
            check_workers(workers, tp)


def test_crash_hook_fires_once(tmp_path):
    marker = tmp_path / "marker"
    code = "from pear_verl.common.parallel import crash_point; crash_point(); print('alive')"
    env = {**os.environ, CRASH_ONCE_ENV: str(marker)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert (first.returncode, first.stdout) == (1, "") and marker.exists()
    assert (second.returncode, second.stdout.strip()) == (0, "alive")


def test_score_refuses_workers_with_a_hand_shard(tmp_path):
    args = build_parser().parse_args(["score", "x.parquet", "--model", "m", "--out", str(tmp_path / "o.parquet"), "--workers", "2", "--shard", "0/2"])
    with pytest.raises(ValueError, match="--workers splits the job"):
        args.func(args)
    for command in (["generate", "p.parquet", "--model", "m", "--out", "o"], ["eval", "--model", "m", "--data", "a=b", "--out", "o"]):
        parsed = build_parser().parse_args(command + ["--workers", "3", "--ray-address", "auto", "--tensor-parallel-size", "2"])
        assert (parsed.workers, parsed.ray_address, parsed.tensor_parallel_size) == (3, "auto", 2)


def test_engine_layout_is_not_part_of_a_record(tiny_models, raw_parquet):
    from pear_verl.behaviour.score import ScoreSettings, _record

    records = [_record([raw_parquet], ScoreSettings(tiny_models["teacher"], tiny_models["teacher"], tensor_parallel_size=tp))[2] for tp in (1, 4)]
    assert records[0] == records[1] and "tensor_parallel_size" not in records[0]["settings"]  # a resume on other GPUs reuses chunks
