"""Paired verdicts over seeds and test puzzles: treatment − control (e.g. PEAR − SFT) with a 95% confidence
interval, a t test whose false-positive rate is its nominal 5% with as few as two seeds, and the number of
seeds a difference of the observed size would need.

Why: both arms are evaluated on the same held-out puzzles with the same seeds, so the paired difference of
puzzle j under seed s is modelled as d_sj = μ + a_s + b_j + e_sj: seed effects a (variance σ_a²), puzzle
effects b (σ_b²: the arms differ more on some puzzles than on others, so the test set's draw matters) and
the rest e (σ_e²: seed × puzzle, including the sampling noise of each puzzle's n samples). The mean D of all
S × P cells has
    Var D = (σ_a² + σ_e²/P) / S  +  σ_b² / P        (seeds' part + test puzzles' part).
With two-way ANOVA mean squares over seeds (MS_s, S − 1 df), puzzles (MS_p, P − 1 df) and the residual (MS_r,
(S − 1)(P − 1) df), E MS_s = σ_e² + P σ_a², E MS_p = σ_e² + S σ_b², E MS_r = σ_e², so
    seeds' part = MS_s / (S P)   (= variance of the per-seed mean differences / S),
    puzzles' part = max(MS_p − MS_r, 0) / (S P)
(subtracting MS_r keeps σ_e² from being counted in both parts). D / SE is referred to Student's t with
Welch–Satterthwaite degrees of freedom (each mean square weighted by its own df): with 3 seeds and little
puzzle noise that is about 2 df, a critical value of 4.3 rather than the normal 1.96. Without per-puzzle
scores the test puzzles are held fixed: the seeds' part alone, S − 1 df. "Beyond the noise" means the 95%
interval excludes 0 (two-sided p < 0.05). tests/unit/evaluation/test_verdict.py checks by simulation that A/A
comparisons are called beyond the noise in 5% (± 2 points) of runs, and that true effects are found as often as
`power` says.

Seeds needed: the smallest number of seeds (same P test puzzles) at which a true difference equal to the
observed one is found with 80% power, from the estimated variance parts (the noncentral t of `tdist`);
when the puzzles' part alone forbids it, more test puzzles are needed, not more seeds.

Run: library code for `pear_verl.demo.summary` (the demo's report) and `pear-verl compare` (recipe outputs).
"""

from __future__ import annotations

import math

import numpy as np

from pear_verl.evaluation.tdist import t_power, t_quantile, t_tail

ALPHA, POWER, MAX_SEEDS = 0.05, 0.8, 1000


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for c correct out of n samples (Chen et al. 2021), stable product form."""
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def per_problem(result: dict, metric: str) -> np.ndarray:
    """[problems] pass@k of each held-out puzzle from its correct count (`metric` = 'pass@k'), as
    `pear-verl eval` averages them."""
    n, k = result["n"], int(metric.split("@")[1])
    return np.array([pass_at_k(n, c, k) for c in result["correct_per_problem"]])


def _satterthwaite(seeds_part, ms_p, ms_r, seeds, puzzles):
    """Welch–Satterthwaite df of seeds_part + (ms_p − ms_r) / (S P); a zero puzzles' part drops its terms."""
    cells = seeds * puzzles
    puzzles_part = np.maximum(ms_p - ms_r, 0.0) / cells
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = seeds_part**2 / (seeds - 1) + np.where(
            puzzles_part > 0, (ms_p / cells) ** 2 / (puzzles - 1) + (ms_r / cells) ** 2 / ((seeds - 1) * (puzzles - 1)), 0.0)
        df = (seeds_part + puzzles_part) ** 2 / spread
    # all-equal differences leave no spread: any df will do; below 1 the t test is no longer usable
    return np.where(spread > 0, np.maximum(df, 1.0), seeds - 1.0)


def t_test(diffs, per_puzzle: bool = True) -> dict:
    """Paired t test of `diffs` ([..., S, P] per seed and puzzle, or [..., S] per seed with per_puzzle=False),
    vectorised over leading axes. Returns mean, se, se_seeds, se_puzzles, df, t, p and the mean squares."""
    d = np.asarray(diffs, float)
    if not per_puzzle:
        d = d[..., None]
    seeds, puzzles = d.shape[-2], d.shape[-1]
    if seeds < 2:
        raise ValueError(f"a t test over seeds needs at least 2 seeds, got {seeds}")
    mean = d.mean((-2, -1))
    seed_means, puzzle_means = d.mean(-1), d.mean(-2)
    ms_s = puzzles * ((seed_means - mean[..., None]) ** 2).sum(-1) / (seeds - 1)
    if per_puzzle and puzzles > 1:
        ms_p = seeds * ((puzzle_means - mean[..., None]) ** 2).sum(-1) / (puzzles - 1)
        resid = d - seed_means[..., :, None] - puzzle_means[..., None, :] + mean[..., None, None]
        ms_r = (resid**2).sum((-2, -1)) / ((seeds - 1) * (puzzles - 1))
    else:  # test puzzles held fixed
        ms_p = ms_r = np.zeros_like(mean)
    seeds_part = ms_s / (seeds * puzzles)
    puzzles_part = np.maximum(ms_p - ms_r, 0.0) / (seeds * puzzles)
    se = np.sqrt(seeds_part + puzzles_part)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, mean / se, np.where(mean == 0, 0.0, np.copysign(np.inf, mean)))
    df = _satterthwaite(seeds_part, ms_p, ms_r, seeds, puzzles)
    return {"mean": mean, "se": se, "se_seeds": np.sqrt(seeds_part), "se_puzzles": np.sqrt(puzzles_part), "df": df, "t": t,
            "p": t_tail(t, df), "ms_seeds": ms_s, "ms_puzzles": ms_p, "ms_resid": ms_r, "seeds": seeds,
            "puzzles": puzzles if per_puzzle else None}


def power(effect: float, seed_var: float, puzzles_part: float, ms_resid: float, seeds: int, puzzles: int | None, alpha: float = ALPHA) -> float:
    """Power of `t_test` at `seeds` (>= 2) seeds for a true mean difference `effect`: seed_var = variance of one
    seed's mean difference (σ_a² + σ_e²/P), puzzles_part = σ_b²/P (0 with the test puzzles fixed), ms_resid = σ_e²."""
    seeds_part = seed_var / seeds
    if seeds_part + puzzles_part <= 0:
        return float(effect != 0)
    df = seeds - 1.0
    if puzzles_part > 0:
        ms_p = ms_resid + seeds * puzzles * puzzles_part  # E MS_p = σ_e² + S σ_b² at this many seeds
        df = float(_satterthwaite(seeds_part, ms_p, ms_resid, seeds, puzzles))
    return t_power(effect / math.sqrt(seeds_part + puzzles_part), df, alpha)


def seeds_needed(stats: dict, target: float = POWER) -> int | None:
    """Fewest seeds (2..MAX_SEEDS, same test puzzles) with `target` power for a true difference of the observed
    size, from the variance parts `t_test` estimated; None if even MAX_SEEDS seeds fall short."""
    args = (float(stats["ms_seeds"]) / (stats["puzzles"] or 1), float(stats["se_puzzles"]) ** 2, float(stats["ms_resid"]))
    reaches = lambda seeds: power(float(stats["mean"]), *args, seeds, stats["puzzles"]) >= target  # noqa: E731
    if not reaches(MAX_SEEDS):
        return None
    lo, hi = 2, MAX_SEEDS  # power grows with the seeds: bisect for the first that reaches the target
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if reaches(mid) else (mid + 1, hi)
    return lo


def puzzle_limited(stats: dict, target: float = POWER) -> bool:
    """True when no number of seeds gives `target` power: the test puzzles' part alone is too large."""
    return power(float(stats["mean"]), 0.0, float(stats["se_puzzles"]) ** 2, float(stats["ms_resid"]), MAX_SEEDS, stats["puzzles"]) < target


def paired_verdict(treatment, control, per_puzzle: bool = True) -> dict:
    """The t test of treatment − control ([S, P] per-puzzle scores, or [S] per-seed scores with per_puzzle=False)
    plus its 95% interval (lo, hi), the verdict (beyond) and the seeds a difference this size would need."""
    treatment, control = np.asarray(treatment, float), np.asarray(control, float)
    if treatment.shape != control.shape or treatment.size == 0:
        raise ValueError(f"paired difference needs the same seeds (and puzzles) in both arms, got shapes {treatment.shape} and {control.shape}")
    diffs = treatment - control
    if diffs.shape[0] < 2:
        return {"mean": float(diffs.mean()), "seeds": diffs.shape[0], "puzzles": diffs.shape[1] if per_puzzle else None}
    stats = {k: (v.item() if isinstance(v, np.ndarray) else v) for k, v in t_test(diffs, per_puzzle).items()}
    half = float(t_quantile(1 - ALPHA / 2, stats["df"])) * stats["se"]
    return {**stats, "lo": stats["mean"] - half, "hi": stats["mean"] + half, "beyond": bool(stats["p"] < ALPHA),
            "seeds_needed": seeds_needed(stats), "puzzle_limited": puzzle_limited(stats)}


def verdict_from_results(treatment: list[dict], control: list[dict], metric: str) -> dict:
    """`paired_verdict` of eval results (`results.json` benchmark entries, one per seed, paired in order):
    per-puzzle pass@k from the correct counts when every run has them, else the runs' `metric` values."""
    runs = treatment + control
    if all("correct_per_problem" in r for r in runs):
        sizes = sorted({len(r["correct_per_problem"]) for r in runs})
        if len(sizes) > 1:
            raise ValueError(f"runs scored different numbers of problems {sizes}: per-puzzle pairing needs one test set")
        return paired_verdict([per_problem(r, metric) for r in treatment], [per_problem(r, metric) for r in control])
    return paired_verdict([r[metric] for r in treatment], [r[metric] for r in control], per_puzzle=False)


def verdict_line(label: str, v: dict, scale: float = 100.0, unit: str = "points") -> str:
    """E.g. 'PEAR − SFT post-RL pass@1: +2.9 points, 95% CI [+0.4, +5.4] (3 seeds × 200 puzzles): beyond the
    noise of seeds and test puzzles (p = 0.03, t on 2.4 df; SE 0.61: seeds 0.55, test puzzles 0.27);
    80% power at this size needs 3 seeds'."""
    mean = scale * v["mean"]
    if v["seeds"] < 2:
        return f"{label}: {mean:+.1f} {unit} (1 seed): no seed spread to judge it against"
    fixed = v["puzzles"] is None
    design = f"{v['seeds']} seeds, test puzzles held fixed" if fixed else f"{v['seeds']} seeds × {v['puzzles']} puzzles"
    noise = "the seed spread" if fixed else "the noise of seeds and test puzzles"
    parts = f"SE {scale * v['se']:.2f}" + ("" if fixed else f": seeds {scale * v['se_seeds']:.2f}, test puzzles {scale * v['se_puzzles']:.2f}")
    needed = v["seeds_needed"]
    if v["mean"] == 0:
        power_text = "no number of seeds finds a difference of 0"
    elif needed is None:
        power_text = ("80% power at this size needs more test puzzles, not more seeds" if v["puzzle_limited"]
                      else f"80% power at this size needs over {MAX_SEEDS} seeds")
    else:
        power_text = f"80% power at this size needs {needed} seeds"
    return (f"{label}: {mean:+.1f} {unit}, 95% CI [{scale * v['lo']:+.1f}, {scale * v['hi']:+.1f}] ({design}): "
            f"{'beyond' if v['beyond'] else 'within'} {noise} (p = {v['p']:.2g}, t on {v['df']:.1f} df; {parts}); {power_text}")
