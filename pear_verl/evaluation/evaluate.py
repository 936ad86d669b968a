"""`pear-verl eval`: pass@1 and unbiased pass@k, per benchmark (`pear-verl compare`, in compare.py, sets runs side by side).

Why: PEAR's claim is about results *after RL*, measured the way the paper does: n samples per problem,
pass@1 averaged over the n samples and the unbiased pass@k of Chen et al. (2021),
pass@k = 1 − C(n−c, k) / C(n, k), computed in the numerically stable product form. Every response is
checked by `reward_fns.compute_score`, the same checker GRPO trains against.

Benchmarks are local verl RL parquet files (`pear-verl math make` for AIME/MATH-500 JSONL, `pear-verl
games make` test splits). Sampling: vLLM on GPU (`--backend vllm`), HF `generate` on CPU; seeded per chunk
of problems, so `--workers N` (N Ray workers, `pear_verl.common.parallel`) gives the counts of one worker.

Run:
    pear-verl eval --model CKPT --benchmark aime24=data/aime24.parquet --benchmark countdown=data/cd/test.parquet \
        --n 64 --k 1 8 --temperature 0.6 --top-p 0.95 --max-new-tokens 8192 --out results/pear_post_rl
Outputs: results.json (with each problem's correct count, for compare's per-puzzle statistics) + results.md.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Optional

import numpy as np
from tqdm import tqdm

from pear_verl.behaviour.generate import GenerationSettings, make_generator, read_prompts
from pear_verl.behaviour.sampling import DTYPES, resolve_dtype
from pear_verl.common import checks
from pear_verl.common.io import atomic_path, require_file, write_json_atomic
from pear_verl.common.parallel import add_arguments as add_worker_arguments
from pear_verl.common.parallel import check_workers, crash_point, run_tasks, split
from pear_verl.evaluation.verdict import pass_at_k
from reward_fns import compute_score

CHUNK = 16  # problems per seeded chunk: the seed of a chunk depends only on its first row, not on the worker


def count_correct(generator, frame, settings: GenerationSettings, start: int, chunk: int = CHUNK) -> list[int]:
    """Correct responses (of n) for each problem of the chunk starting at row `start`."""
    rows = frame.iloc[start : start + chunk]
    samples = generator.sample(list(rows["prompt"]), settings, seed=settings.seed * 1_000_003 + start)
    return [sum(compute_score(row.data_source, r.text, row.reward_model["ground_truth"])["acc"] == 1.0 for r in responses)
            for row, responses in zip(rows.itertuples(index=False), samples)]


def evaluate_benchmark(generator, path: str, settings: GenerationSettings, ks: list[int], chunk: int = CHUNK) -> dict:
    frame = read_prompts(path)
    correct = [c for start in tqdm(range(0, len(frame), chunk), desc=f"eval {Path(path).name}") for c in count_correct(generator, frame, settings, start, chunk)]
    return summarise(path, correct, settings, ks)


def summarise(path: str, correct: list[int], settings: GenerationSettings, ks: list[int]) -> dict:
    n = settings.n
    return {
        "file": str(path),
        "problems": len(correct),
        "n": n,
        "pass@1": float(np.mean([c / n for c in correct])),
        **{f"pass@{k}": float(np.mean([pass_at_k(n, c, k) for c in correct])) for k in ks if k <= n},
        "correct_per_problem": correct,
    }


def markdown_table(results: dict[str, dict], title: str) -> str:
    keys = sorted({k for r in results.values() for k in r if k.startswith("pass@")}, key=lambda k: int(k[5:]))
    lines = [f"# {title}", "", "| benchmark | problems | n | " + " | ".join(keys) + " |", "|---|---|---|" + "---|" * len(keys)]
    for name, r in results.items():
        lines.append(f"| {name} | {r['problems']} | {r['n']} | " + " | ".join(f"{100 * r[k]:.1f}" if k in r else "–" for k in keys) + " |")
    return "\n".join(lines) + "\n"


def check_eval_settings(settings: GenerationSettings, ks: list[int]) -> None:
    """Values that cannot give the asked numbers, refused before any model loads (pass@k needs k <= n)."""
    checks.number("--n", settings.n, integer=True, low=1)
    for k in ks:
        if not 1 <= k <= settings.n:
            raise ValueError(f"--k {k}: pass@k needs 1 <= k <= --n ({settings.n})")
    checks.number("--temperature", settings.temperature, low=0, low_open=True)
    checks.number("--top-p", settings.top_p, low=0, high=1, low_open=True)
    checks.number("--max-new-tokens", settings.max_new_tokens, integer=True, low=1)


def benchmarks(pairs: list[str]) -> dict[str, str]:
    """--data name=path pairs; a name given twice would silently keep one benchmark."""
    named = _named(pairs)
    if len(named) < len(pairs):
        names = [pair.partition("=")[0] for pair in pairs]
        raise ValueError(f"--benchmark: name(s) given twice: {sorted({n for n in names if names.count(n) > 1})}")
    return named


def _eval_shard(settings: GenerationSettings, chunks: list[tuple[str, int]]) -> list[list[int]]:
    """One Ray worker's share of `eval`: (benchmark file, first row) chunks, on its own engine."""
    generator = make_generator(settings)
    frames = {path: read_prompts(path) for path in {path for path, _ in chunks}}
    counts = []
    for path, start in chunks:
        counts.append(count_correct(generator, frames[path], settings, start))
        crash_point()  # test only: a worker dying here has its whole shard redone (eval keeps no parts)
    if hasattr(generator, "close"):
        generator.close()
    return counts


def evaluate_parallel(data: dict[str, str], settings: GenerationSettings, ks: list[int], workers: int, address: Optional[str] = None) -> dict:
    """Every benchmark's chunks split over `workers` Ray workers (`pear_verl.common.parallel`), gathered in order:
    chunk seeds depend on the row only, so the counts are those of one worker."""
    chunks = [(path, start) for path in data.values() for start in range(0, len(read_prompts(path)), CHUNK)]
    shards = [group for group in split(chunks, min(workers, len(chunks))) if group]
    counts = dict(zip(chunks, (c for shard in run_tasks(_eval_shard, [(settings, group) for group in shards], settings.tensor_parallel_size, address)
                               for c in shard)))
    return {name: summarise(path, [c for (p, _), cs in counts.items() if p == path for c in cs], settings, ks) for name, path in data.items()}


def run_eval(model: str, data: dict[str, str], settings: GenerationSettings, ks: list[int], out_dir: str, workers: int = 1,
             ray_address: Optional[str] = None) -> dict:
    check_eval_settings(settings, ks)
    check_workers(workers, settings.tensor_parallel_size)
    for path in data.values():
        require_file(path)
        read_prompts(path)  # every file's rows checked before any model loads
    settings = replace(settings, dtype=resolve_dtype(model, settings.dtype))  # recorded as used, not "auto"
    if workers > 1:
        results = evaluate_parallel(data, settings, ks, workers, ray_address)
    else:
        generator = make_generator(settings)
        results = {name: evaluate_benchmark(generator, path, settings, ks) for name, path in data.items()}
    out = Path(out_dir)
    payload = {"model": model, "settings": vars(settings), "benchmarks": results}
    write_json_atomic(payload, out / "results.json")
    with atomic_path(out / "results.md") as tmp:
        tmp.write_text(markdown_table(results, f"{model} (n={settings.n}, T={settings.temperature}, top-p={settings.top_p}, seed={settings.seed})"))
    print((out / "results.md").read_text())
    return payload


def _named(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"expected name=path, got {pair!r}")
        out[name] = path
    return out


def add_commands(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="pass@1 / pass@k of a model on local benchmark parquets")
    ev.add_argument("--model", required=True, help="HF model folder or hub id (org/name)")
    ev.add_argument("--benchmark", "--data", dest="data", action="append", required=True, metavar="NAME=PATH",
                    help="a verl RL parquet to evaluate, named (repeatable; --data is its former name)")
    ev.add_argument("--n", type=int, default=16, help="samples per problem (>= 1)")
    ev.add_argument("--k", type=int, nargs="+", default=[1, 8], help="pass@k to report, each 1 <= k <= n")
    ev.add_argument("--temperature", type=float, default=0.6, help="sampling temperature (> 0)")
    ev.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling, in (0, 1]")
    ev.add_argument("--max-new-tokens", type=int, default=4096, help="response length limit")
    ev.add_argument("--seed", type=int, default=0, help="sampling seed")
    ev.add_argument("--backend", default="hf", choices=["hf", "vllm"], help="hf: transformers generate (CPU); vllm: GPU")
    ev.add_argument("--dtype", default="auto", choices=DTYPES, help="model dtype (auto: the checkpoint's)")
    ev.add_argument("--enforce-eager", action="store_true", help="vLLM: skip compilation and CUDA graphs")
    ev.add_argument("--out", required=True, help="output folder (results.json, results.md)")
    add_worker_arguments(ev)
    settings = lambda a: GenerationSettings(  # noqa: E731
        a.model, n=a.n, temperature=a.temperature, top_p=a.top_p, max_new_tokens=a.max_new_tokens, seed=a.seed, backend=a.backend,
        dtype=a.dtype, enforce_eager=a.enforce_eager, tensor_parallel_size=a.tensor_parallel_size,
    )
    ev.set_defaults(func=lambda a: run_eval(a.model, benchmarks(a.data), settings(a), a.k, a.out, a.workers, a.ray_address),
                    check=lambda a: (benchmarks(a.data), check_eval_settings(settings(a), a.k), check_workers(a.workers, a.tensor_parallel_size)))
