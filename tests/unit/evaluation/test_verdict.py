"""The paired verdict: its ANOVA parts against loops, its false-positive rate and power by simulation, lines.

Calibration (fixed RNG seeds, so deterministic): 4,000 simulated experiments per scenario. A/A
comparisons (no true difference) must be called "beyond the noise" in 5% ± 2 points of them (the
binomial SE of a 5% rate over 4,000 runs is 0.34 points; the rest allows for the Satterthwaite
approximation, and for the method being conservative when seeds and puzzles add no noise of their own:
the puzzles' part, truncated at 0, is then positive on average; 3.5% in that scenario), and simulated
effects must be found within ± 5 points of the power `verdict.power` claims. The old rule,
|mean| > 2 SE with seed and puzzle SE added, fails the A/A check (18% with 3 seeds when seeds dominate).
"""

import math

import numpy as np
import pytest

from pear_verl.evaluation.verdict import paired_verdict, pass_at_k, per_problem, power, t_test, verdict_line

RUNS, PUZZLES = 4000, 200


def simulate(rng, seeds, seed_sd, puzzle_sd, cell_sd, effect=0.0, runs=RUNS, puzzles=PUZZLES):
    """[runs, seeds, puzzles] paired differences effect + a_s + b_j + e_sj."""
    return (effect + seed_sd * rng.standard_normal((runs, seeds, 1)) + puzzle_sd * rng.standard_normal((runs, 1, puzzles))
            + cell_sd * rng.standard_normal((runs, seeds, puzzles)))


def test_mean_squares_against_loops():
    rng = np.random.default_rng(3)
    d = rng.normal(size=(3, 7)) + rng.normal(size=(3, 1))
    S, P = d.shape
    grand = sum(d[s][j] for s in range(S) for j in range(P)) / (S * P)
    seed_mean = [sum(d[s]) / P for s in range(S)]
    puzzle_mean = [sum(d[s][j] for s in range(S)) / S for j in range(P)]
    ms_s = P * sum((m - grand) ** 2 for m in seed_mean) / (S - 1)
    ms_p = S * sum((m - grand) ** 2 for m in puzzle_mean) / (P - 1)
    ms_r = sum((d[s][j] - seed_mean[s] - puzzle_mean[j] + grand) ** 2 for s in range(S) for j in range(P)) / ((S - 1) * (P - 1))
    r = t_test(d)
    assert (r["ms_seeds"], r["ms_puzzles"], r["ms_resid"]) == pytest.approx((ms_s, ms_p, ms_r), rel=1e-12)
    seeds_part, puzzles_part = ms_s / (S * P), max(ms_p - ms_r, 0) / (S * P)
    assert r["se"] == pytest.approx(math.sqrt(seeds_part + puzzles_part), rel=1e-12)
    # Welch–Satterthwaite: (Σ c_i MS_i)² / Σ (c_i MS_i)² / df_i
    c = 1 / (S * P)
    want_df = (seeds_part + puzzles_part) ** 2 / ((c * ms_s) ** 2 / (S - 1) + (c * ms_p) ** 2 / (P - 1) + (c * ms_r) ** 2 / ((S - 1) * (P - 1)))
    assert r["df"] == pytest.approx(max(want_df, 1.0), rel=1e-12)
    # seeds' part alone = (sd of per-seed mean differences)² / S
    assert seeds_part == pytest.approx(np.var(seed_mean, ddof=1) / S, rel=1e-12)


def test_per_seed_only_is_the_paired_t_test():
    # diffs .10, .08, .10: mean .093333, sd .011547, SE .0066667, t = 14.0 on 2 df; t_{.975,2} = 4.303 (NIST)
    v = paired_verdict([0.30, 0.28, 0.40], [0.20, 0.20, 0.30], per_puzzle=False)
    assert v["mean"] == pytest.approx(0.093333, abs=1e-6) and v["se"] == pytest.approx(0.0066667, abs=1e-7)
    assert v["df"] == 2 and v["t"] == pytest.approx(14.0, rel=1e-6)
    assert (v["lo"], v["hi"]) == pytest.approx((0.093333 - 4.3027 * 0.0066667, 0.093333 + 4.3027 * 0.0066667), abs=1e-5)
    # two-sided p on 2 df: 1 − t / √(2 + t²)
    assert v["p"] == pytest.approx(1 - 14 / math.sqrt(2 + 196), rel=1e-9) and v["beyond"]


SCENARIOS = [  # (seeds, seed sd, puzzle sd, cell sd): seeds dominate, puzzles dominate, cells dominate, mixed
    (2, 1.0, 0.0, 0.1), (3, 1.0, 0.0, 0.1), (3, 0.0, 1.0, 0.1), (3, 0.0, 0.0, 1.0), (3, 0.1, 0.1, 1.0), (3, 0.3, 0.05, 1.0), (5, 0.07, 0.07, 1.0),
]


@pytest.mark.parametrize("seeds, seed_sd, puzzle_sd, cell_sd", SCENARIOS)
def test_a_a_comparisons_are_called_beyond_the_noise_5_percent_of_the_time(seeds, seed_sd, puzzle_sd, cell_sd):
    rng = np.random.default_rng(seeds * 1000 + SCENARIOS.index((seeds, seed_sd, puzzle_sd, cell_sd)))
    r = t_test(simulate(rng, seeds, seed_sd, puzzle_sd, cell_sd))
    assert abs(float((r["p"] < 0.05).mean()) - 0.05) <= 0.02


def test_the_old_two_se_rule_fails_the_a_a_check():
    r = t_test(simulate(np.random.default_rng(0), 3, 1.0, 0.0, 0.1))
    old_se = np.hypot(r["se_seeds"], np.sqrt(r["ms_puzzles"] / (3 * PUZZLES)))  # the seed and puzzle SE as before
    assert float((np.abs(r["mean"]) > 2 * old_se).mean()) > 0.15  # theory: P(|t_2| > 2) = 1 − 2/√6 = 0.18


def test_a_a_on_binomial_pass_at_k_like_the_demo():
    """Both arms draw each puzzle's 8 samples with the same chance of success (logit: puzzle difficulty + a
    seed shift + seed × puzzle noise, independent per arm); pass@1 and pass@8 per puzzle as eval computes them."""
    rng = np.random.default_rng(11)
    difficulty = rng.normal(-2.5, 1.5, PUZZLES)

    def arm():
        logit = difficulty + 0.15 * rng.standard_normal((RUNS, 3, 1)) + 0.5 * rng.standard_normal((RUNS, 3, PUZZLES))
        return rng.binomial(8, 1 / (1 + np.exp(-logit)))

    treatment, control = arm(), arm()
    pass8 = np.array([pass_at_k(8, c, 8) for c in range(9)])
    for score in (lambda c: c / 8, lambda c: pass8[c]):
        r = t_test(score(treatment) - score(control))
        assert abs(float((r["p"] < 0.05).mean()) - 0.05) <= 0.02


@pytest.mark.parametrize("seeds, seed_sd, puzzle_sd, cell_sd, claimed", [
    (3, 0.02, 0.0, 0.1, 0.8), (3, 0.01, 0.05, 0.1, 0.5), (3, 0.01, 0.02, 0.3, 0.8), (2, 0.02, 0.02, 0.2, 0.8), (5, 0.02, 0.02, 0.2, 0.5),
])
def test_true_effects_are_found_with_the_claimed_power(seeds, seed_sd, puzzle_sd, cell_sd, claimed):
    args = (seed_sd**2 + cell_sd**2 / PUZZLES, puzzle_sd**2 / PUZZLES, cell_sd**2, seeds, PUZZLES)
    lo, hi = 0.0, 1.0  # the effect at which `power` claims `claimed`
    for _ in range(30):
        lo, hi = ((lo + hi) / 2, hi) if power((lo + hi) / 2, *args) < claimed else (lo, (lo + hi) / 2)
    r = t_test(simulate(np.random.default_rng(int(claimed * 100) + seeds), seeds, seed_sd, puzzle_sd, cell_sd, effect=hi))
    assert abs(float((r["p"] < 0.05).mean()) - claimed) <= 0.05


def test_seeds_needed_reaches_the_target_power():
    rng = np.random.default_rng(5)
    d = simulate(rng, 3, 0.02, 0.01, 0.2, effect=0.01, runs=1)[0]
    v = paired_verdict(d, np.zeros_like(d))
    args = (v["ms_seeds"] / PUZZLES, v["se_puzzles"] ** 2, v["ms_resid"])
    needed = v["seeds_needed"]
    assert power(v["mean"], *args, needed, PUZZLES) >= 0.8 > power(v["mean"], *args, needed - 1, PUZZLES)


def test_verdict_lines():
    v = paired_verdict([0.30, 0.28, 0.40], [0.20, 0.20, 0.30], per_puzzle=False)
    assert verdict_line("PEAR − SFT post-RL pass@1", v) == (
        "PEAR − SFT post-RL pass@1: +9.3 points, 95% CI [+6.5, +12.2] (3 seeds, test puzzles held fixed): beyond the seed spread "
        f"(p = 0.0051, t on 2.0 df; SE 0.67); 80% power at this size needs {v['seeds_needed']} seeds")
    assert v["seeds_needed"] == 3
    assert verdict_line("X", paired_verdict([0.5], [0.25], per_puzzle=False)) == "X: +25.0 points (1 seed): no seed spread to judge it against"
    # identical arms: a difference of exactly 0, no spread
    same = paired_verdict([[0.5, 0.0], [1.0, 0.5]], [[0.5, 0.0], [1.0, 0.5]])
    assert not same["beyond"] and verdict_line("X", same).endswith("no number of seeds finds a difference of 0")
    with pytest.raises(ValueError, match="same seeds"):
        paired_verdict([0.1, 0.2], [0.1])


def test_puzzle_noise_that_seeds_cannot_remove():
    # Every seed repeats the same per-puzzle differences (+1 on half of the puzzles, −0.9 on the other half):
    # all noise is the test set's draw, so more seeds cannot help.
    d = np.tile(np.r_[np.ones(10), -0.9 * np.ones(10)], (3, 1))
    v = paired_verdict(d, np.zeros_like(d))
    assert v["se_seeds"] < 1e-12 and v["se_puzzles"] > 0 and v["seeds_needed"] is None and v["puzzle_limited"]
    assert "needs more test puzzles, not more seeds" in verdict_line("X", v)


def test_per_problem_pass_at_k():
    # n = 4: c = 0 -> 0; c = 1 -> 1 − C(3,2)/C(4,2) = .5; c = 4 -> 1
    assert per_problem({"n": 4, "correct_per_problem": [0, 1, 4]}, "pass@2").tolist() == [0.0, 0.5, 1.0]
