"""The built-in CPU demo: PEAR SFT vs plain SFT with verl's trainer, on tiny local models.

Why: one command that shows the whole SFT half of the product working on any machine — no GPU, no
downloads — through the same entry point a cluster user runs. Stages (each skipped when its output
exists, so a killed run resumes):

  1. data      — arithmetic chat conversations (train/val parquet)
  2. teacher   — a tiny Qwen2 teacher, trained from scratch with plain SFT (`pear.enable=false`)
  3. score     — behaviour log-probs of the SFT data under the teacher
  4. students  — the same initial student trained twice: plain SFT and PEAR (token variant)
  5. report    — per-step PEAR metrics and the final losses, side by side

Run: `python -m pear_verl.demo [--workdir runs/demo] [--steps 20] [--nproc 1]`
(`bash scripts/demo.sh` sets up `./.venv` first).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd

from pear_verl.io import write_parquet_atomic
from pear_verl.score import score_parquet
from pear_verl.tiny import save_tiny_model

# Settings for fast, exact CPU runs (fp32: no bf16 autocast on CPU).
CPU_RUN = [
    "trainer.device=cpu",
    "data.num_workers=0",
    "+engine.mixed_precision.param_dtype=fp32",
    "trainer.logger=[console,file]",
    "data.max_token_len_per_gpu=2048",
]


def arithmetic_conversations(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = rng.randint(0, 99), rng.randint(0, 99)
        rows.append(
            {
                "messages": [
                    {"role": "user", "content": f"{a} + {b} = ?"},
                    {"role": "assistant", "content": f"{a} + {b} = {a + b}. The answer is \\boxed{{{a + b}}}"},
                ]
            }
        )
    return pd.DataFrame(rows)


def launch_sft(run_dir: Path, overrides: list[str], nproc: int = 1) -> list[dict]:
    """`python -m pear_verl.sft` (or torchrun with `nproc` ranks); returns the logged step metrics."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log = run_dir / "metrics.jsonl"
    cmd = [sys.executable, "-m", "pear_verl.sft"]
    if nproc > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m", "pear_verl.sft"]
    env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(log)}
    args = [*CPU_RUN, f"trainer.default_local_dir={run_dir / 'ckpt'}", *overrides]
    print("$", " ".join(cmd + args), flush=True)
    with open(run_dir / "train.log", "w") as out:
        proc = subprocess.run(cmd + args, cwd=run_dir, env=env, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f"training failed (exit {proc.returncode}); see {run_dir / 'train.log'}")
    return [json.loads(line)["data"] for line in log.read_text().splitlines()]


def hf_export(run_dir: Path, steps: int) -> Path:
    return run_dir / "ckpt" / f"global_step_{steps}" / "huggingface"


def train_stage(run_dir: Path, model: str, data_dir: Path, steps: int, nproc: int, extra: list[str]) -> Path:
    """Train unless the run's HF export already exists; returns the HF export folder."""
    export = hf_export(run_dir, steps)
    if export.exists():
        print(f"[skip] {run_dir.name}: {export} exists")
        return export
    launch_sft(
        run_dir,
        [
            f"model.path={model}",
            f"data.train_files={data_dir / 'train.parquet'}",
            f"data.val_files={data_dir / 'val.parquet'}",
            "data.train_batch_size=16",
            f"trainer.total_training_steps={steps}",
            "checkpoint.save_contents=[model,optimizer,extra,hf_model]",
            "trainer.project_name=pear-demo",
            f"trainer.experiment_name={run_dir.name}",
            *extra,
        ],
        nproc=nproc,
    )
    return export


def report(runs: dict[str, Path]) -> str:
    keys = ["train/loss", "pear/base_loss", "pear/weight_mean", "pear/ess", "pear/ratio_clip_frac", "val/loss"]
    lines = ["| run | step | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
    for name, run_dir in runs.items():
        merged: dict[int, dict] = {}
        for line in (run_dir / "metrics.jsonl").read_text().splitlines():
            entry = json.loads(line)
            merged.setdefault(entry["step"], {}).update(entry["data"])
        steps = sorted(merged)
        for step in (steps[0], steps[len(steps) // 2], steps[-1]):
            row = merged[step]
            cells = [f"{row[k]:.4f}" if k in row else "–" for k in keys]
            lines.append(f"| {name} | {step} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="runs/demo")
    parser.add_argument("--steps", type=int, default=20, help="student SFT steps")
    parser.add_argument("--teacher-steps", type=int, default=60)
    parser.add_argument("--nproc", type=int, default=1, help="CPU ranks (gloo) per training run")
    args = parser.parse_args()
    work = Path(args.workdir).resolve()
    data_dir = work / "data"

    print("== 1. data")
    for split, n, seed in (("train", 256, 0), ("val", 32, 1)):
        if not (data_dir / f"raw_{split}.parquet").exists():
            write_parquet_atomic(arithmetic_conversations(n, seed), data_dir / f"raw_{split}.parquet")

    print("== 2. teacher (plain SFT from scratch)")
    for name, seed in (("teacher_init", 1), ("student_init", 0)):
        if not (work / name / "config.json").exists():
            save_tiny_model(work / name, seed=seed, hidden=64)
    teacher_data = work / "teacher_data"
    for split in ("train", "val"):
        if not (teacher_data / f"{split}.parquet").exists():
            write_parquet_atomic(pd.read_parquet(data_dir / f"raw_{split}.parquet"), teacher_data / f"{split}.parquet")
    teacher = train_stage(
        work / "teacher", str(work / "teacher_init"), teacher_data, args.teacher_steps, args.nproc,
        ["pear.enable=false", "optim.lr=3e-3"],
    )

    print("== 3. behaviour log-probs under the teacher")
    for split in ("train", "val"):
        out = data_dir / f"{split}.parquet"
        if not out.exists():
            score_parquet(data_dir / f"raw_{split}.parquet", out, str(teacher))

    print("== 4. students: plain SFT and PEAR")
    runs = {"sft": work / "student_sft", "pear": work / "student_pear"}
    student = str(work / "student_init")
    train_stage(runs["sft"], student, data_dir, args.steps, args.nproc, ["pear.enable=false"])
    train_stage(runs["pear"], student, data_dir, args.steps, args.nproc, ["pear.variant=token"])

    print("== 5. report")
    table = report(runs)
    (work / "report.md").write_text(table + "\n")
    print(table)
    print(f"\nHF checkpoints: {hf_export(runs['sft'], args.steps)} and {hf_export(runs['pear'], args.steps)}")


if __name__ == "__main__":
    main()
