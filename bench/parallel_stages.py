"""Benchmark: `generate` and `score` on 2 Ray CPU workers vs 1 worker (the in-process path), same run.

Why: `--workers N` should scale the behaviour stages with the number of devices. On CPU each worker is
one process with one thread (run with OMP_NUM_THREADS=1, which Ray also gives a 1-CPU task), so 1 vs 2
workers is 1 vs 2 cores. Wall times include everything a user waits for: Ray's local cluster start and
stop, one model load per worker, sampling, rescoring, merging. Runs alternate (1, 2, 1, 2, ...); the
ratio is the median 1-worker time over the median 2-worker time (> 1: two workers are faster). The files
are checked equal, so the speed is not bought with other results. The fixed cost of 2 workers (a local
cluster started and stopped, each worker importing torch/verl/transformers) is printed on its own: on a
GPU job it is paid once against hours of work; in this small benchmark it is a large share.

Run: `OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/parallel_stages.py [--rounds 2] [--prompts 16]`
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sft_step import long_conversations  # noqa: E402

from pear_verl.behaviour.generate import GenerationSettings, generate  # noqa: E402
from pear_verl.behaviour.score import ScoreSettings, score_parallel  # noqa: E402
from pear_verl.common.parallel import run_tasks  # noqa: E402
from pear_verl.demo.tiny import save_tiny_model  # noqa: E402
from pear_verl.evaluation.rl_data import make_game_data  # noqa: E402


def timed(fn) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, pd.read_parquet(out)


def _import_stages() -> None:
    import pear_verl.behaviour.generate  # noqa: F401  (what a worker imports before its first chunk: torch, verl, transformers)


def ray_overhead(workers: int) -> float:
    """Seconds for a local cluster to start, run one task per worker that only imports the stages, and stop."""
    start = time.perf_counter()
    run_tasks(_import_stages, [()] * workers)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--prompts", type=int, default=16, help="generate: prompts (x4 samples)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--rows", type=int, default=64, help="score: rows")
    parser.add_argument("--tokens", type=int, default=384, help="score: tokens per row")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    args = parser.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != "1":
        sys.exit("run with OMP_NUM_THREADS=1: one core per worker")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = str(save_tiny_model(tmp / "m", hidden=args.hidden, layers=args.layers))
        long_conversations(args.rows, args.tokens).to_parquet(tmp / "sft.parquet", index=False)
        make_game_data("countdown", args.prompts, 1, 0, {"n_numbers": 3}, tmp / "prompts")
        gen = GenerationSettings(model, n=4, max_new_tokens=args.max_new_tokens, keep="all", seed=1)
        score = ScoreSettings(model, model, data_config={"max_length": 8192})
        stages = {
            "generate": lambda w, out: generate(str(tmp / "prompts" / "train.parquet"), out, gen, chunk_prompts=4, force=True, workers=w,
                                                data_config={"max_length": 8192}),
            "score": lambda w, out: score_parallel([str(tmp / "sft.parquet")], out, score, w, chunk_rows=16, force=True),
        }
        print(f"fixed cost of 2 workers (local Ray cluster start + stop, each worker importing torch/verl/transformers): "
              f"{ray_overhead(2):.1f} s")
        for name, run in stages.items():
            times = {1: [], 2: []}
            frames = {}
            for r in range(args.rounds):
                for workers in (1, 2):
                    seconds, frames[workers] = timed(lambda: run(workers, tmp / f"{name}-{workers}.parquet"))
                    times[workers].append(seconds)
            same = frames[1].drop(columns="behavior_log_probs").astype(str).equals(frames[2].drop(columns="behavior_log_probs").astype(str))
            diff = max(abs(a - b).max(initial=0.0) for a, b in zip(frames[1]["behavior_log_probs"], frames[2]["behavior_log_probs"]))
            one, two = statistics.median(times[1]), statistics.median(times[2])
            print(f"{name}: {len(frames[1])} rows; 1 worker {one:.1f} s, 2 workers {two:.1f} s (times {times}); "
                  f"ratio {one / two:.2f}; same rows: {same}, max |log-prob diff| {diff:.1e}")


if __name__ == "__main__":
    main()
