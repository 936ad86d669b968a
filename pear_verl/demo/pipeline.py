"""The built-in CPU demo: PEAR vs plain SFT at the SFT → RL hand-off, with seeds and a computed verdict.

Why: PEAR's claim is about *post-RL* results, so the demo runs the complete chain on any machine — no
GPU, no downloads — through the entry points a cluster user runs, on a task tiny models learn
(`pear_verl.demo.task`: countdown with 3 numbers <= 10, compact prompts such as `3 6 2 -> 1`):

  1. data      — `pear-verl games make`-style splits, canonically disjoint (reordered numbers = one puzzle)
  2. teacher   — a tiny Qwen2 trained from scratch on every valid expression (`python -m pear_verl.sft`, plain)
  3. base      — the student's own prior: trained from scratch on *other* puzzles, one solution each, in
                 another writing style (larger operand first, one solution), so teacher data is off-policy
  4. generate  — SFT data sampled from the teacher with behaviour log-probs (`pear-verl generate`), and
                 `pear-verl report` of δ = log π_base − log π_teacher on it
  5. arms      — per seed: plain SFT and PEAR (token; block / sequence optional) from the base, then
                 identical verl GRPO (`verl.trainer.main_ppo`, hf rollout), pass@k after each
  6. summary   — per-arm mean ± sd, paired PEAR − SFT differences, verdict lines and plots in report.md

Every stage is skipped when its output exists, so a killed run resumes.

Run: `python -m pear_verl.demo [--workdir runs/demo] [--arms sft pear block] [--seeds 0 1 2]`
(`bash scripts/demo.sh` sets up `./.venv` first); `--quick` is the smallest end-to-end run (the tests use it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd
import torch

from pear_verl.behaviour.generate import GenerationSettings, generate
from pear_verl.behaviour.report import run_report
from pear_verl.common.io import JobFailed, run_logged, write_json_atomic, write_parquet_atomic
from pear_verl.cpu_runtime.grpo import launch_grpo
from pear_verl.demo import summary
from pear_verl.demo.task import GAME, KNOBS, PROMPT_STYLE, write_sft
from pear_verl.demo.tiny import save_tiny_model
from pear_verl.evaluation.evaluate import run_eval
from pear_verl.evaluation.rl_data import make_game_data

ARMS = {"sft": ["pear.enable=false"], "pear": ["pear.variant=token"], "block": ["pear.variant=block"], "sequence": ["pear.variant=sequence"]}

# Settings for fast, exact CPU SFT runs (fp32: no bf16 autocast on CPU).
CPU_SFT = [
    "trainer.device=cpu",
    "data.num_workers=0",
    "+engine.mixed_precision.param_dtype=fp32",
    "trainer.logger=[console,file]",
    "data.max_token_len_per_gpu=4096",
    "checkpoint.save_contents=[model,optimizer,extra,hf_model]",
    "model.enable_gradient_checkpointing=False",  # tiny models: recomputation only costs time
]


def launch_sft(run_dir: Path, overrides: list[str], nproc: int = 1) -> None:
    """`python -m pear_verl.sft` (or torchrun with `nproc` ranks), logs and metrics in `run_dir`."""
    cmd = [sys.executable, "-m", "pear_verl.sft"]
    if nproc > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m", "pear_verl.sft"]
    cmd += [*CPU_SFT, f"trainer.default_local_dir={run_dir / 'ckpt'}", *overrides]
    print("$", " ".join(cmd), flush=True)
    run_logged(cmd, run_dir, {})


def hf_export(ckpt_dir: Path, steps: int, sub: str = "") -> Path:
    return ckpt_dir / f"global_step_{steps}" / sub / "huggingface"


def sft_stage(run_dir: Path, model: Path, train: Path, val: Path, steps: int, extra: list[str], nproc: int = 1, batch: int = 16) -> Path:
    """Train unless the run's HF export already exists; returns the HF export folder."""
    export = hf_export(run_dir / "ckpt", steps)
    if export.exists():
        print(f"[skip] {run_dir.name}: {export} exists")
        return export
    launch_sft(run_dir, [f"model.path={model}", f"data.train_files={train}", f"data.val_files={val}", f"data.train_batch_size={batch}",
                         f"trainer.total_training_steps={steps}", "trainer.total_epochs=1000", "trainer.project_name=pear-demo", f"trainer.experiment_name={run_dir.name}", *extra], nproc)
    return export


def grpo_stage(run_dir: Path, model: Path, data_dir: Path, steps: int, extra: tuple[str, ...] = (), rollout: str = "hf", seed: int = 0,
               lr: float = 1e-3, n: int = 4, prompts: int = 16) -> Path:
    """Identical GRPO for every student (`rollout`: hf | vllm); returns the final actor's HF export."""
    export = hf_export(run_dir / "ckpt", steps, "actor")
    if export.exists():
        print(f"[skip] {run_dir.name}: {export} exists")
        return export
    launch_grpo(run_dir, [
        f"data.train_files={data_dir / 'train.parquet'}", f"data.val_files={data_dir / 'test.parquet'}",
        f"data.train_batch_size={prompts}", "data.max_prompt_length=192", "data.max_response_length=24",
        f"actor_rollout_ref.model.path={model}", f"actor_rollout_ref.actor.optim.lr={lr}",
        "actor_rollout_ref.actor.ppo_mini_batch_size=16", "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=64",
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=64", f"actor_rollout_ref.rollout.n={n}",
        f"actor_rollout_ref.rollout.seed={seed}", f"data.seed={seed}", "actor_rollout_ref.model.enable_gradient_checkpointing=False",
        "reward.custom_reward_function.path=pkg://reward_fns", "reward.custom_reward_function.name=compute_score",
        f"trainer.total_training_steps={steps}", f"trainer.save_freq={steps}", "trainer.test_freq=-1",
        "trainer.val_before_train=False", "trainer.logger=[console,file]",
        "trainer.project_name=pear-demo", f"trainer.experiment_name={run_dir.name}", *extra,
    ], rollout)
    return export


@dataclass
class Sizes:
    puzzles: int = 1400  # RL puzzles (the teacher writes the students' SFT data for them)
    base_puzzles: int = 1000  # the base student's own puzzles (none of them RL or test puzzles); the teacher learns both sets
    test_puzzles: int = 200
    hidden: int = 128
    layers: int = 4
    batch: int = 64
    teacher_steps: int = 900
    base_steps: int = 250
    student_steps: int = 40  # about two passes over the teacher's ~1,200 rows: the base's own skill survives
    student_lr: float = 5e-4
    grpo_steps: int = 16
    grpo_prompts: int = 32  # per step (two optimizer updates of 16): the step noise of the mean reward shrinks with it
    grpo_lr: float = 5e-4  # 1e-3 collapsed these students within 5 steps (responses shrank to ~5 tokens, reward 0)
    rollout_n: int = 8  # samples per prompt: more groups with both right and wrong answers
    gen_prompts: int = 1400  # RL puzzles the teacher writes SFT data for
    gen_n: int = 8
    keep: str = "correct"  # teacher samples kept for SFT (all | correct), at most 2 per puzzle
    eval_n: int = 8
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])


QUICK = Sizes(puzzles=160, base_puzzles=96, test_puzzles=16, hidden=64, layers=2, batch=16, teacher_steps=20, base_steps=10,
              student_steps=4, grpo_steps=2, grpo_prompts=16, rollout_n=4, gen_prompts=128, gen_n=4, keep="all", eval_n=2, seeds=[0])


class Progress:
    """Stage lines with wall-clock time since the start, so a long run shows where it is."""

    def __init__(self, total: int):
        self.start, self.done, self.total = time.time(), 0, total

    def stage(self, text: str) -> None:
        self.done += 1
        minutes, seconds = divmod(int(time.time() - self.start), 60)
        print(f"== [{self.done}/{self.total} {minutes:02d}:{seconds:02d}] {text}", flush=True)


def eval_stage(model: Path, test: Path, out: Path, n: int) -> dict:
    """pass@1 and pass@n on the held-out puzzles (same sampling seed for every model); skipped when done."""
    if not (out / "results.json").exists():
        run_eval(str(model), {GAME: str(test)}, GenerationSettings(str(model), n=n, temperature=1.0, max_new_tokens=24), [1, n], str(out))
    return summary.load_results(out / "results.json")


def data_stage(data: Path, sizes: Sizes) -> None:
    """Canonically disjoint test / RL / base puzzles; the teacher's and the base's SFT text."""
    if (data / "base_val.parquet").exists():
        return
    make_game_data(GAME, sizes.puzzles + sizes.base_puzzles, sizes.test_puzzles, 0, KNOBS, data / "all", prompt_style=PROMPT_STYLE)
    rows = pd.read_parquet(data / "all" / "train.parquet")
    rl, base = rows.iloc[: sizes.puzzles].reset_index(drop=True), rows.iloc[sizes.puzzles :].reset_index(drop=True)
    write_parquet_atomic(rl, data / "train.parquet")
    write_parquet_atomic(rl.iloc[: sizes.gen_prompts], data / "gen_prompts.parquet")
    write_parquet_atomic(pd.read_parquet(data / "all" / "test.parquet"), data / "test.parquet")
    n_val = max(8, min(64, sizes.puzzles // 10))
    write_sft(pd.concat([rl, base]), "teacher", None, data / "solver", n_val)
    write_sft(base, "base", 1, data / "base", n_val)


def split_off_val(path: Path, out_dir: Path, prefix: str) -> None:
    """`<prefix>_train.parquet` and `<prefix>_val.parquet` (the first 10%, at least 8 rows) of an SFT parquet."""
    rows = pd.read_parquet(path)
    if len(rows) < 64:
        raise SystemExit(f"{path}: only {len(rows)} SFT rows; more data (or a longer-trained teacher) is needed")
    n_val = max(8, len(rows) // 10)
    for name, part in ((f"{prefix}_train", rows[n_val:]), (f"{prefix}_val", rows[:n_val])):
        if not (out_dir / f"{name}.parquet").exists():
            write_parquet_atomic(part, out_dir / f"{name}.parquet")


def seeded_order(path: Path, seed: int) -> Path:
    """The SFT rows shuffled by `seed`: verl's SFT sampler ignores trainer.seed (DistributedSampler's fixed
    seed 0), so the seed enters through the data order, the same for every arm of one seed."""
    out = path.with_name(f"{path.stem}_s{seed}.parquet")
    if not out.exists():
        write_parquet_atomic(pd.read_parquet(path).sample(frac=1.0, random_state=seed).reset_index(drop=True), out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m pear_verl.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="runs/demo")
    parser.add_argument("--quick", action="store_true", help="smallest end-to-end run (minutes)")
    parser.add_argument("--arms", nargs="+", default=["sft", "pear"], choices=list(ARMS), help="sft must be one (the control)")
    parser.add_argument("--seeds", type=int, nargs="+", help="student seeds (default: 0 1 2; --quick: 0)")
    parser.add_argument("--nproc", type=int, default=1, help="CPU ranks (gloo) per SFT run")
    # Not read from $OMP_NUM_THREADS: the thread count changes float reduction order, hence every number after
    # the first training step, so it is part of the run's definition (recorded in plan.json and report.md).
    parser.add_argument("--threads", type=int, default=1,
                        help="intra-op threads per process; the results depend on it (default 1: tiny models on a busy "
                             "2-core CPU ran a training step in 0.1 s with one thread and 4.6 s with two)")
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # every training, GRPO and Ray child inherits it
    torch.set_num_threads(args.threads)
    if "sft" not in args.arms:
        parser.error("--arms must include sft (the control every other arm is compared with)")
    sizes = QUICK if args.quick else Sizes()
    sizes = replace(sizes, seeds=args.seeds or sizes.seeds)
    work = Path(args.workdir).resolve()
    data = work / "data"
    plan = {"sizes": asdict(sizes), "arms": args.arms, "threads": args.threads,
            "command": "python -m pear_verl.demo " + " ".join(sys.argv[1:])}
    if (work / "plan.json").exists():  # a rerun may list other seeds or arms (finished ones are reused); nothing else
        old = json.loads((work / "plan.json").read_text())
        if {**old["sizes"], "seeds": None} != {**plan["sizes"], "seeds": None}:
            sys.exit(f"{work} holds a run with other sizes; use another --workdir")
        if old.get("threads") != args.threads:
            made = f"--threads {old['threads']}" if "threads" in old else "an unrecorded thread count"
            sys.exit(f"{work} holds a run made with {made}, not --threads {args.threads} (the results depend on the "
                     "thread count); use that or another --workdir")
    write_json_atomic(plan, work / "plan.json")
    progress = Progress(5 + 2 * len(args.arms) * len(sizes.seeds))
    shape = dict(hidden=sizes.hidden, layers=sizes.layers, heads=max(1, sizes.hidden // 32))

    progress.stage("data: canonically disjoint countdown splits, teacher and base SFT text")
    data_stage(data, sizes)
    for name, seed in (("teacher_init", 1), ("base_init", 0)):
        if not (work / name / "config.json").exists():
            save_tiny_model(work / name, seed=seed, **shape)
    train_args = dict(nproc=args.nproc, batch=sizes.batch)
    progress.stage("teacher: plain SFT from scratch on every valid expression")
    teacher = sft_stage(work / "teacher", work / "teacher_init", data / "solver_train.parquet", data / "solver_val.parquet",
                        sizes.teacher_steps, ["pear.enable=false", "optim.lr=2e-3"], **train_args)
    progress.stage("base: the student's own prior (other puzzles, other writing style)")
    base = sft_stage(work / "base", work / "base_init", data / "base_train.parquet", data / "base_val.parquet",
                     sizes.base_steps, ["pear.enable=false", "optim.lr=2e-3"], **train_args)
    progress.stage("teacher and base on held-out puzzles; teacher SFT data with behaviour log-probs; δ report")
    for name, model in (("teacher", teacher), ("base", base)):
        eval_stage(model, data / "test.parquet", work / "eval" / name, sizes.eval_n)
    sft_data = data / "teacher_sft.parquet"
    if not sft_data.exists():
        generate(str(data / "gen_prompts.parquet"), sft_data, GenerationSettings(str(teacher), n=sizes.gen_n, temperature=1.0, max_new_tokens=24,
                                                                          keep=sizes.keep, max_per_prompt=2))
    split_off_val(sft_data, data, "teacher")
    if not (work / "delta" / "report.json").exists():
        knobs = {"gamma": 0.999, "block_size": 4, "ratio_clip": (-0.08, 0.3), "log_weight_clip": (-10.0, 5.0)}
        run_report(str(data / "teacher_train.parquet"), str(base), str(work / "delta"), knobs, {"max_length": 1024})

    for seed in sizes.seeds:
        for arm in args.arms:
            progress.stage(f"seed {seed}, {arm}: SFT from the base, then pass@k")
            student = sft_stage(work / f"student_{arm}_s{seed}", base, seeded_order(data / "teacher_train.parquet", seed), data / "teacher_val.parquet",
                                sizes.student_steps, [*ARMS[arm], f"optim.lr={sizes.student_lr}"], **train_args)
            eval_stage(student, data / "test.parquet", work / "eval" / f"{arm}_s{seed}_sft", sizes.eval_n)
            progress.stage(f"seed {seed}, {arm}: identical GRPO (verl main_ppo, hf rollout), then pass@k")
            tuned = grpo_stage(work / f"grpo_{arm}_s{seed}", student, data, sizes.grpo_steps, seed=seed, lr=sizes.grpo_lr, n=sizes.rollout_n,
                               prompts=sizes.grpo_prompts)
            eval_stage(tuned, data / "test.parquet", work / "eval" / f"{arm}_s{seed}_rl", sizes.eval_n)

    progress.stage("summary")
    print(summary.summarise(work) + f"\nreport: {work / 'report.md'}")


def run() -> None:
    """`python -m pear_verl.demo`: a failed job exits with its one-line summary (its own log has the traceback)."""
    try:
        main()
    except JobFailed as failure:
        sys.exit(str(failure))


if __name__ == "__main__":
    run()
