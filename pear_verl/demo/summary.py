"""The demo's verdict: per-arm mean ± sd over seeds, the paired PEAR − SFT difference, GRPO's reward rise
against its step noise, and the pictures, all written into `report.md`.

Why: at CPU scale one run per arm is noise. Each arm runs with several seeds (the same seed gives both
arms the same SFT data order and GRPO sampling seed), so the honest comparison is the *paired*
difference per seed, with its spread. Every arm is evaluated on the same held-out puzzles, so the seed
spread alone says nothing about how those puzzles were drawn: a difference that every seed repeats can
still be luck of the test set. Every sentence of the verdict is computed from the numbers:
  - each PEAR − SFT difference comes with a 95% confidence interval over seeds and test puzzles (each
    puzzle's pass@k from its correct count, as `pear-verl eval` computes it) and is "beyond the noise"
    when the interval excludes 0: a t test with Welch–Satterthwaite degrees of freedom, calibrated for as
    few as two seeds (`pear_verl.evaluation.verdict`, which `pear-verl compare` uses too); with one seed there is no
    seed spread and the verdict says so. Each line also says how many seeds a difference of its size needs;
  - GRPO "raises reward" when (mean of the last third of steps − mean of the first third), averaged over
    seeds, exceeds the step noise: the sd of step-to-step changes / √2 (the per-step noise sd of a flat
    noisy curve), averaged over seeds.

Run: `python -m pear_verl.demo.summary WORKDIR` rewrites WORKDIR/report.md from finished runs.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from pear_verl.common.io import atomic_path
from pear_verl.demo.task import GAME, KNOBS
from pear_verl.evaluation.verdict import verdict_from_results, verdict_line


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample sd (n − 1); sd is nan for fewer than two values."""
    arr = np.asarray(values, float)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else math.nan


def reward_rise(curve: list[float]) -> tuple[float, float]:
    """(mean of the last third − mean of the first third, step noise = sd of step-to-step changes / √2)."""
    arr = np.asarray(curve, float)
    third = max(1, len(arr) // 3)
    rise = float(arr[-third:].mean() - arr[:third].mean())
    noise = float(np.diff(arr).std(ddof=1) / math.sqrt(2)) if len(arr) > 2 else math.nan
    return rise, noise


def grpo_line(arm: str, curves: list[list[float]]) -> str:
    pairs = [reward_rise(c) for c in curves]
    rise, noise = float(np.mean([p[0] for p in pairs])), float(np.nanmean([p[1] for p in pairs])) if any(not math.isnan(p[1]) for p in pairs) else math.nan
    if math.isnan(noise):
        return f"{arm}: GRPO reward rise {rise:+.3f} (too few steps to measure step noise)"
    word = "raises its reward beyond" if rise > noise else "does not raise its reward beyond"
    return f"{arm}: GRPO {word} the step noise: rise {rise:+.3f} vs noise {noise:.3f} (mean over {len(curves)} seeds)"


def _fmt(values: list[float]) -> str:
    mean, sd = mean_sd([100 * v for v in values])
    return f"{mean:.1f}" if math.isnan(sd) else f"{mean:.1f} ± {sd:.1f}"


def tables(evals: dict, arms: list[str], ks: list[str]) -> str:
    """evals[arm][stage][seed] = results of one eval (pass@… keys); also 'teacher' / 'base' single runs."""
    lines = ["| model | stage | seeds | " + " | ".join(ks) + " |", "|---|---|---|" + "---|" * len(ks)]
    for single in ("teacher", "base"):
        if single in evals:
            lines.append(f"| {single} | – | 1 | " + " | ".join(f"{100 * evals[single][k]:.1f}" for k in ks) + " |")
    for arm in arms:
        for stage in ("sft", "rl"):
            runs = list(evals[arm][stage].values())
            lines.append(f"| {arm} | post-{stage.upper()} | {len(runs)} | " + " | ".join(_fmt([r[k] for r in runs]) for k in ks) + " |")
    return "\n".join(lines)


def verdicts(evals: dict, arms: list[str], ks: list[str]) -> list[str]:
    """One verdict line per non-sft arm, stage and metric: the arm − sft, paired by seed."""
    lines = []
    for arm in arms:
        if arm == "sft":
            continue
        seeds = sorted(set(evals[arm]["rl"]) & set(evals["sft"]["rl"]))
        for stage, name in (("rl", "post-RL"), ("sft", "post-SFT")):
            for k in ks:
                runs = [[evals[who][stage][s] for s in seeds] for who in (arm, "sft")]
                lines.append(verdict_line(f"{arm.upper()} − SFT {name} {k}", verdict_from_results(*runs, k)))
    return lines


def _band(ax, steps_by_seed: list[dict], key: str, label: str) -> None:
    common = sorted(set.intersection(*(set(s) for s in steps_by_seed))) if steps_by_seed else []
    common = [s for s in common if all(key in run[s] for run in steps_by_seed)]
    if not common:
        return
    values = np.array([[run[s][key] for s in common] for run in steps_by_seed])
    mean, sd = values.mean(0), values.std(0, ddof=1) if len(values) > 1 else np.zeros(len(common))
    ax.plot(common, mean, label=label)
    ax.fill_between(common, mean - sd, mean + sd, alpha=0.25)


def plots(out: Path, grpo_logs: dict, sft_logs: dict, evals: dict, arms: list[str], ks: list[str]) -> list[str]:
    """grpo_reward.png, pass_at_k.png, pear_weights.png in `out`; returns their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def save(fig, name):
        fig.tight_layout()
        with atomic_path(out / name) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
        plt.close(fig)
        return name

    names = []
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for arm in arms:
        _band(ax, list(grpo_logs[arm].values()), "critic/score/mean", arm)
    ax.set(xlabel="GRPO step", ylabel="mean reward", title="GRPO reward (mean ± sd over seeds)")
    ax.legend()
    names.append(save(fig, "grpo_reward.png"))

    fig, ax = plt.subplots(figsize=(8, 3.8))
    groups = [(stage, k) for stage in ("sft", "rl") for k in ks]
    width = 0.8 / len(arms)
    for i, arm in enumerate(arms):
        stats = [mean_sd([100 * r[k] for r in evals[arm][stage].values()]) for stage, k in groups]
        ax.bar(np.arange(len(groups)) + i * width, [m for m, _ in stats], width, yerr=[0 if math.isnan(s) else s for _, s in stats], capsize=3, label=arm)
    for single, style in (("teacher", "--"), ("base", ":")):
        if single in evals:
            ax.axhline(100 * evals[single]["pass@1"], linestyle=style, color="grey", label=f"{single} pass@1")
    ax.set_xticks(np.arange(len(groups)) + width * (len(arms) - 1) / 2, [f"post-{s.upper()}\n{k}" for s, k in groups])
    ax.set(ylabel="% of held-out puzzles", title="pass@k (mean ± sd over seeds)")
    ax.legend(fontsize=8)
    names.append(save(fig, "pass_at_k.png"))

    pear_arms = [a for a in arms if a != "sft"]
    keys = ["pear/ess", "pear/weight_mean", "pear/ratio_clip_frac", "pear/weight_clip_frac"]
    fig, axes = plt.subplots(1, len(keys), figsize=(13, 3))
    for ax, key in zip(axes, keys):
        for arm in pear_arms:
            _band(ax, list(sft_logs[arm].values()), key, arm)
        ax.set(xlabel="SFT step", title=key.split("/")[1])
    axes[0].legend(fontsize=8)
    names.append(save(fig, "pear_weights.png"))
    return names


def load_results(path: Path) -> dict:
    bench = json.loads(path.read_text())["benchmarks"]
    return next(iter(bench.values()))


def logged_steps(run_dir: Path) -> dict[int, dict]:
    """metrics.jsonl of a run, merged per step (validation is logged as a separate line)."""
    steps: dict[int, dict] = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        entry = json.loads(line)
        steps.setdefault(entry["step"], {}).update(entry["data"])
    return steps


def summarise(work: Path) -> str:
    """report.md from the finished runs listed in plan.json: δ preview, tables, verdict, GRPO check, plots."""
    plan = json.loads((work / "plan.json").read_text())
    arms, seeds, ks = plan["arms"], plan["sizes"]["seeds"], ["pass@1", f"pass@{plan['sizes']['eval_n']}"]
    evals = {name: load_results(work / "eval" / name / "results.json") for name in ("teacher", "base")}
    for arm in arms:
        evals[arm] = {stage: {s: load_results(work / "eval" / f"{arm}_s{s}_{stage}" / "results.json") for s in seeds} for stage in ("sft", "rl")}
    grpo_logs = {arm: {s: logged_steps(work / f"grpo_{arm}_s{s}") for s in seeds} for arm in arms}
    sft_logs = {arm: {s: logged_steps(work / f"student_{arm}_s{s}") for s in seeds} for arm in arms}
    pictures = plots(work, grpo_logs, sft_logs, evals, arms, ks)
    curves = {arm: [[grpo_logs[arm][s][t]["critic/score/mean"] for t in sorted(grpo_logs[arm][s])] for s in seeds] for arm in arms}
    command = f"Command: `{plan['command']}`, {plan['threads']} intra-op thread(s) per process (the numbers depend on the thread count)"
    text = "\n".join([
        f"# PEAR demo: {GAME} {KNOBS}, {len(seeds)} seed(s)", "", command, "",
        "## Verdict (computed)", "", *[f"- {line}" for line in verdicts(evals, arms, ks)], "",
        "## GRPO", "", *[f"- {grpo_line(arm, curves[arm])}" for arm in arms], "",
        "## pass@k on held-out puzzles (%, mean ± sd over seeds)", "", tables(evals, arms, ks), "",
        "## δ = log π_base − log π_teacher on the teacher's SFT data, before SFT", "",
        (work / "delta" / "report.md").read_text().split("\n", 1)[1], "",
        *[f"![{name}]({name})" for name in ["delta/delta_hist.png", *pictures]], "",
    ])
    with atomic_path(work / "report.md") as tmp:
        tmp.write_text(text)
    return text


if __name__ == "__main__":
    summarise(Path(sys.argv[1]))
