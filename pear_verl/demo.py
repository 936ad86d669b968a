"""The built-in CPU demo: the whole PEAR story, SFT then RL, on tiny local models with verl's trainers.

Why: PEAR's claim is about *post-RL* results, so the demo runs the complete chain on any machine — no
GPU, no downloads — through the same entry points a cluster user runs:

  1. data      — knights-and-knaves puzzles (`pear-verl games make`): RL prompts, test set, solver answers
  2. teacher   — a tiny Qwen2 trained from scratch on the solver answers (`python -m pear_verl.sft`, plain SFT)
  3. generate  — SFT data sampled from the teacher, with behaviour log-probs (`pear-verl generate`; a tiny
                 teacher is rarely right, so its samples are kept whether correct or not: `--keep all`)
  4. students  — one initial student trained twice on that data: plain SFT and PEAR (token variant)
  5. grpo      — identical verl GRPO for both (`verl.trainer.main_ppo`, `rollout.name=hf`, CPU)
  6. eval      — pass@k of every model on the held-out puzzles (`pear-verl eval`), one table + one plot

Every stage is skipped when its output exists, so a killed run resumes. The numbers are whatever this
run produces; at this size they say that the pipeline works, not which method is better.

Run: `python -m pear_verl.demo [--workdir runs/demo]` (`bash scripts/demo.sh` sets up `./.venv`
first); `--quick` is the smallest end-to-end run (the tests use it).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pear_verl.evaluate import compare, run_eval
from pear_verl.generate import GenerationSettings, generate
from pear_verl.cpu_runtime.grpo import launch_grpo
from pear_verl.io import JobFailed, run_logged, write_parquet_atomic
from pear_verl.rl_data import make_game_data
from pear_verl.tiny import save_tiny_model

GAME, KNOBS = "knights_knaves", {"n_people": 2, "depth": 1}
# Settings for fast, exact CPU SFT runs (fp32: no bf16 autocast on CPU).
CPU_SFT = [
    "trainer.device=cpu",
    "data.num_workers=0",
    "+engine.mixed_precision.param_dtype=fp32",
    "trainer.logger=[console,file]",
    "data.max_token_len_per_gpu=4096",
    "checkpoint.save_contents=[model,optimizer,extra,hf_model]",
]


@dataclass
class Sizes:
    puzzles: int = 512
    test_puzzles: int = 64
    teacher_steps: int = 200
    student_steps: int = 60
    grpo_steps: int = 8
    eval_n: int = 8


QUICK = Sizes(puzzles=128, test_puzzles=16, teacher_steps=60, student_steps=10, grpo_steps=2, eval_n=2)


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


def sft_stage(run_dir: Path, model: Path, train: Path, val: Path, steps: int, extra: list[str], nproc: int = 1) -> Path:
    """Train unless the run's HF export already exists; returns the HF export folder."""
    export = hf_export(run_dir / "ckpt", steps)
    if export.exists():
        print(f"[skip] {run_dir.name}: {export} exists")
        return export
    launch_sft(run_dir, [f"model.path={model}", f"data.train_files={train}", f"data.val_files={val}", "data.train_batch_size=16",
                         f"trainer.total_training_steps={steps}", "trainer.total_epochs=1000", "trainer.project_name=pear-demo", f"trainer.experiment_name={run_dir.name}", *extra], nproc)
    return export


def grpo_stage(run_dir: Path, model: Path, data_dir: Path, steps: int, extra: tuple[str, ...] = (), rollout: str = "hf") -> Path:
    """Identical GRPO for every student (`rollout`: hf | vllm); returns the final actor's HF export."""
    export = hf_export(run_dir / "ckpt", steps, "actor")
    if export.exists():
        print(f"[skip] {run_dir.name}: {export} exists")
        return export
    launch_grpo(run_dir, [
        f"data.train_files={data_dir / 'train.parquet'}", f"data.val_files={data_dir / 'test.parquet'}",
        "data.train_batch_size=16", "data.max_prompt_length=192", "data.max_response_length=24",
        f"actor_rollout_ref.model.path={model}", "actor_rollout_ref.actor.optim.lr=1e-3",
        "actor_rollout_ref.actor.ppo_mini_batch_size=16", "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=64",
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=64", "actor_rollout_ref.rollout.n=4",
        "reward.custom_reward_function.path=pkg://reward_fns", "reward.custom_reward_function.name=compute_score",
        f"trainer.total_training_steps={steps}", f"trainer.save_freq={steps}", "trainer.test_freq=-1",
        "trainer.val_before_train=False", "trainer.logger=[console,file]",
        "trainer.project_name=pear-demo", f"trainer.experiment_name={run_dir.name}", *extra,
    ], rollout)
    return export


def split_off_val(path: Path, out_dir: Path, prefix: str) -> None:
    """`<prefix>_train.parquet` and `<prefix>_val.parquet` (the first 10%, at least 8 rows) of an SFT parquet."""
    rows = pd.read_parquet(path)
    if len(rows) < 64:
        raise SystemExit(f"{path}: only {len(rows)} SFT rows; more data (or a longer-trained teacher) is needed")
    n_val = max(8, len(rows) // 10)
    for name, part in ((f"{prefix}_train", rows[n_val:]), (f"{prefix}_val", rows[:n_val])):
        if not (out_dir / f"{name}.parquet").exists():
            write_parquet_atomic(part, out_dir / f"{name}.parquet")


def logged_steps(run_dir: Path) -> dict[int, dict]:
    """metrics.jsonl of a run, merged per step (validation is logged as a separate line)."""
    steps: dict[int, dict] = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        entry = json.loads(line)
        steps.setdefault(entry["step"], {}).update(entry["data"])
    return steps


def training_summary(work: Path) -> str:
    """The students' last SFT step (PEAR's weights next to the plain NLL) and the GRPO reward curve."""
    sft_keys = ["train/loss", "pear/base_loss", "pear/weight_mean", "pear/ess", "val/loss"]
    lines = ["| SFT run | step | " + " | ".join(sft_keys) + " |", "|---|---|" + "---|" * len(sft_keys)]
    for method in ("sft", "pear"):
        steps = logged_steps(work / f"student_{method}")
        last = max(steps)
        lines.append(f"| {method} | {last} | " + " | ".join(f"{steps[last][k]:.4f}" if k in steps[last] else "–" for k in sft_keys) + " |")
    lines += ["", "| GRPO run | mean reward per step | response length (last step) |", "|---|---|---|"]
    for method in ("sft", "pear"):
        steps = logged_steps(work / f"grpo_{method}")
        curve = " ".join(f"{steps[s]['critic/score/mean']:.3f}" for s in sorted(steps))
        lines.append(f"| {method}+grpo | {curve} | {steps[max(steps)]['response_length/mean']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="runs/demo")
    parser.add_argument("--quick", action="store_true", help="smallest end-to-end run (minutes)")
    parser.add_argument("--nproc", type=int, default=1, help="CPU ranks (gloo) per SFT run")
    args = parser.parse_args()
    sizes = QUICK if args.quick else Sizes()
    work = Path(args.workdir).resolve()
    data = work / "data"

    print("== 1. data", flush=True)
    if not (data / "sft_train.parquet").exists():
        make_game_data(GAME, sizes.puzzles, sizes.test_puzzles, 0, KNOBS, data, sft=True)
    split_off_val(data / "sft_train.parquet", data, "solver")

    print("== 2. teacher: plain SFT from scratch on solver answers", flush=True)
    for name, seed in (("teacher_init", 1), ("student_init", 0)):
        if not (work / name / "config.json").exists():
            save_tiny_model(work / name, seed=seed, hidden=64)
    teacher = sft_stage(work / "teacher", work / "teacher_init", data / "solver_train.parquet", data / "solver_val.parquet",
                        sizes.teacher_steps, ["pear.enable=false", "optim.lr=3e-3"], args.nproc)

    print("== 3. SFT data from the teacher, with behaviour log-probs", flush=True)
    sft_data = data / "teacher_sft.parquet"
    if not sft_data.exists():
        generate(str(data / "train.parquet"), sft_data, GenerationSettings(str(teacher), n=4, temperature=1.0, max_new_tokens=24, keep="all", max_per_prompt=2))
    split_off_val(sft_data, data, "teacher")

    print("== 4. students: plain SFT and PEAR on the same data", flush=True)
    students = {}
    for method, extra in (("sft", ["pear.enable=false"]), ("pear", ["pear.variant=token"])):
        students[method] = sft_stage(work / f"student_{method}", work / "student_init", data / "teacher_train.parquet",
                                     data / "teacher_val.parquet", sizes.student_steps, [*extra, "optim.lr=3e-3"], args.nproc)

    print("== 5. identical GRPO for both students (verl main_ppo, hf rollout on CPU)", flush=True)
    models = {"teacher": teacher, **{f"{m}": p for m, p in students.items()}}
    for method, student in students.items():
        models[f"{method}+grpo"] = grpo_stage(work / f"grpo_{method}", student, data, sizes.grpo_steps)

    print("== 6. evaluation on held-out puzzles", flush=True)
    settings = dict(n=sizes.eval_n, temperature=1.0, max_new_tokens=24)
    for name, model in models.items():
        out = work / "eval" / name
        if not (out / "results.json").exists():
            run_eval(str(model), {GAME: str(data / "test.parquet")}, GenerationSettings(str(model), **settings), [1, sizes.eval_n], str(out))
    table = compare({name: str(work / "eval" / name) for name in models}, str(work / "eval"))
    summary = training_summary(work)
    (work / "report.md").write_text(f"{summary}\n\n{table}")
    print(f"\n{summary}\n\n{table}\nplot: {work / 'eval' / 'compare.png'}, report: {work / 'report.md'}")


if __name__ == "__main__":
    try:
        main()
    except JobFailed as failure:  # the job's own log has the traceback
        sys.exit(str(failure))
