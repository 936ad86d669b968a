"""Data-parallel `generate`, `score` and `eval` on Ray: one engine per worker, one contiguous shard each.

Why: a cluster job (20,000 prompts x 4 samples) on one engine uses 1 GPU of 16. verl already runs on Ray,
so the behaviour stages use it too, with its conventions: `ray.init()` starts a local cluster, or joins the
one named by `--ray-address` / `RAY_ADDRESS` (after `ray start --head` on one node and `ray start
--address=HEAD:6379` on the others). Each worker is a Ray task asking for `--tensor-parallel-size` GPUs
(1 CPU on a cluster without GPUs); Ray sets its `CUDA_VISIBLE_DEVICES`, so every engine gets its own
device(s). Each task runs one shard of the job through the stage's own resumable code (chunks written
atomically under `OUT.parts` / `OUT.gen-parts`, chunk seeds from the first prompt index), so N workers
write the same file as one, and a task whose process dies is retried by Ray (`max_retries`) and resumes
from the chunks its shard had finished: nothing is lost or written twice.

`--workers 1` (the default) runs in-process, exactly as before, without Ray.

Run: `pear-verl score|generate|eval ... --workers 8 [--tensor-parallel-size 1] [--ray-address auto]`;
tests in `tests/integration/test_parallel.py`, speed in `bench/parallel_stages.py`.
"""

from __future__ import annotations

import argparse
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

# Test only: a worker that reaches `crash_point()` while this file does not exist creates it and dies
# (os._exit, as a killed process would), once per marker, so tests can show its shard is redone.
CRASH_ONCE_ENV = "PEAR_VERL_TEST_CRASH_ONCE"
# A worker process that dies is restarted this many times (Ray task retries) before the job fails.
MAX_RETRIES = 3
# Local CPU clusters: results are small (paths, counts), so a small object store suffices (Ray's minimum
# is 75 MB); the default, 30% of RAM in /dev/shm, would claim gigabytes on a shared machine.
LOCAL_OBJECT_STORE_BYTES = 200 << 20


def layout_free(settings: dict) -> dict:
    """Settings without the engine layout (GPUs per engine), which does not change what is computed: a
    job resumed on another layout reuses its chunks, and records stay those of earlier versions."""
    return {k: v for k, v in settings.items() if k != "tensor_parallel_size"}


def add_arguments(parser: argparse.ArgumentParser, tensor_parallel: bool = True) -> None:
    parser.add_argument("--workers", type=int, default=1,
                        help="data-parallel engines on Ray, each on its own GPU(s) (Ray sets CUDA_VISIBLE_DEVICES) or CPU; "
                             "1 (default): in this process, without Ray")
    parser.add_argument("--ray-address", default=None,
                        help="Ray cluster to join (e.g. auto, or HEAD:6379 after `ray start --head`); default $RAY_ADDRESS, "
                             "else a local cluster")
    if tensor_parallel:
        parser.add_argument("--tensor-parallel-size", type=int, default=1, help="vLLM: GPUs per engine (each worker asks Ray for this many)")


def check_workers(workers: int, tensor_parallel_size: int = 1) -> None:
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    if tensor_parallel_size < 1:
        raise ValueError(f"--tensor-parallel-size must be >= 1, got {tensor_parallel_size}")


def split(items: Sequence, n: int) -> list[list]:
    """`items` in n contiguous groups (sizes differ by at most one), the way `score --shard i/n` slices rows."""
    return [list(items[len(items) * i // n : len(items) * (i + 1) // n]) for i in range(n)]


def crash_point() -> None:
    marker = os.environ.get(CRASH_ONCE_ENV)
    if marker and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        os._exit(1)


@contextmanager
def cluster(workers: int, address: Optional[str] = None) -> Iterator[None]:
    """Ray for the duration: the one already initialised, the cluster at `address` (else `RAY_ADDRESS`),
    or a local one with `workers` CPUs that is stopped on exit. A job with several phases (generate:
    sampling, then rescoring) holds one cluster across them."""
    import ray

    if ray.is_initialized():
        yield
        return
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address)
    else:
        ray.init(num_cpus=workers, object_store_memory=LOCAL_OBJECT_STORE_BYTES, include_dashboard=False)
    try:
        yield
    finally:
        ray.shutdown()


def run_tasks(fn: Callable, calls: Sequence[tuple], tensor_parallel_size: int = 1, address: Optional[str] = None) -> list:
    """`[fn(*args) for args in calls]`, each call a Ray task on its own engine's resources, in order.

    A task whose worker dies is retried; an exception raised by `fn` fails the job at once."""
    import ray

    with cluster(len(calls), address):
        gpus = ray.cluster_resources().get("GPU", 0)
        if gpus and gpus < tensor_parallel_size:
            raise ValueError(f"--tensor-parallel-size {tensor_parallel_size} needs that many GPUs per worker; the cluster has {gpus:g}")
        resources = {"num_gpus": tensor_parallel_size, "num_cpus": 1} if gpus else {"num_cpus": 1}
        task = ray.remote(max_retries=MAX_RETRIES)(fn).options(**resources)
        return ray.get([task.remote(*args) for args in calls])
