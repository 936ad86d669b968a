"""The demo's statistics and verdict lines against numbers worked out by hand (in the comments)."""

import math

import pytest

from pear_verl.demo_summary import grpo_line, mean_sd, paired_difference, per_problem, reward_rise, tables, verdict_line, verdicts


def test_paired_difference_beyond_the_spread():
    # diffs 0.10, 0.08, 0.10: mean 0.09333; deviations +.00667 −.01333 +.00667, squares sum 2.6667e-4,
    # / (n−1) = 1.3333e-4, sd 0.011547; SE = sd / √3 = 0.0066667; 2 SE = 1.33 points.
    diff = paired_difference([0.30, 0.28, 0.40], [0.20, 0.20, 0.30])
    assert diff["mean"] == pytest.approx(0.093333, abs=1e-5)
    assert diff["sd"] == pytest.approx(0.011547, abs=1e-5)
    assert diff["se"] == pytest.approx(0.0066667, abs=1e-6)
    assert verdict_line("PEAR − SFT post-RL pass@1", diff) == (
        "PEAR − SFT post-RL pass@1: +9.3 ± 1.2 points (3 seeds): beyond the seed spread (|mean| > 2 SE = 1.3)")


def test_paired_difference_within_the_spread():
    # diffs 0.10, −0.10, 0.03: mean 0.01; squares of deviations .0081 + .0121 + .0004 = .0206, / 2 = .0103,
    # sd 0.10149; SE 0.058595; 2 SE = 11.7 points.
    diff = paired_difference([0.30, 0.10, 0.33], [0.20, 0.20, 0.30])
    assert verdict_line("X", diff) == "X: +1.0 ± 10.1 points (3 seeds): within the seed spread (|mean| ≤ 2 SE = 11.7)"


def test_one_seed_has_no_spread_and_unpaired_seeds_fail():
    assert verdict_line("X", paired_difference([0.5], [0.25])) == "X: +25.0 points (1 seed): no seed spread to judge it against"
    assert math.isnan(mean_sd([1.0])[1])
    with pytest.raises(ValueError, match="equally many seeds"):
        paired_difference([0.1, 0.2], [0.1])


def test_reward_rise_and_step_noise():
    # thirds of 6 steps: last (.4 + .5) / 2 = .45, first (.1 + .2) / 2 = .15, rise .30;
    # step changes .1 −.1 .2 .1 .1: mean .08, squared deviations sum .048, / 4 = .012, sd .109545, / √2 = .077460.
    rise, noise = reward_rise([0.1, 0.2, 0.1, 0.3, 0.4, 0.5])
    assert rise == pytest.approx(0.30) and noise == pytest.approx(0.077460, abs=1e-6)
    assert grpo_line("pear", [[0.1, 0.2, 0.1, 0.3, 0.4, 0.5]]).startswith("pear: GRPO raises its reward beyond the step noise: rise +0.300 vs noise 0.077")
    assert "does not raise" in grpo_line("sft", [[0.5, 0.1, 0.5, 0.1, 0.5, 0.1]])  # rise 0, noise > 0


def test_tables_and_verdicts_read_the_right_cells():
    run = lambda p1, p8: {"pass@1": p1, "pass@8": p8}  # noqa: E731
    evals = {
        "teacher": run(0.6, 0.9), "base": run(0.1, 0.3),
        "sft": {"sft": {0: run(0.2, 0.5), 1: run(0.4, 0.7)}, "rl": {0: run(0.3, 0.6), 1: run(0.5, 0.8)}},
        "pear": {"sft": {0: run(0.2, 0.5), 1: run(0.4, 0.7)}, "rl": {0: run(0.4, 0.6), 1: run(0.6, 0.8)}},
    }
    table = tables(evals, ["sft", "pear"], ["pass@1", "pass@8"])
    # sft post-RL pass@1: 30 and 50 -> mean 40.0, sd √((10² + 10²) / 1) = 14.1
    assert "| sft | post-RL | 2 | 40.0 ± 14.1 | 70.0 ± 14.1 |" in table
    assert "| teacher | – | 1 | 60.0 | 90.0 |" in table
    lines = verdicts(evals, ["sft", "pear"], ["pass@1", "pass@8"])
    # post-RL pass@1 diffs +10, +10: sd 0, so any non-zero mean is beyond 2 SE = 0
    assert lines[0] == "PEAR − SFT post-RL pass@1: +10.0 ± 0.0 points (2 seeds): beyond the seed spread (|mean| > 2 SE = 0.0)"
    assert lines[1].startswith("PEAR − SFT post-RL pass@8: +0.0 ± 0.0 points (2 seeds): within")


def test_test_puzzle_noise_enters_the_standard_error():
    # 2 seeds × 3 puzzles (pass@1 per puzzle). Per-puzzle differences averaged over seeds: .5, 0, .25 ->
    # sd .25, SE test = .25 / √3 = .144338. Per-seed differences: .5 − 1/3 = 1/6 and .5 − 1/6 = 1/3 ->
    # mean .25, sd .117851, SE seeds = .083333. Combined √(.083333² + .144338²) = .166667, 2 SE = 33.3 points.
    treatment, control = [[1, 0.5, 0], [1, 0, 0.5]], [[0.5, 0.5, 0], [0.5, 0, 0]]
    diff = paired_difference([sum(p) / 3 for p in treatment], [sum(p) / 3 for p in control], treatment, control)
    assert diff["se_test"] == pytest.approx(0.144338, abs=1e-6) and diff["se"] == pytest.approx(0.083333, abs=1e-6)
    assert verdict_line("X", diff) == ("X: +25.0 ± 11.8 points (2 seeds, 3 puzzles): within the noise of seeds and test puzzles "
                                       "(|mean| ≤ 2 SE = 33.3; SE seeds 8.33, test puzzles 14.43)")


def test_per_problem_pass_at_k_and_verdicts_use_it():
    # n = 4: c = 0 -> 0; c = 1 -> 1 − C(3,2)/C(4,2) = .5; c = 4 -> 1
    assert per_problem({"n": 4, "correct_per_problem": [0, 1, 4]}, "pass@2").tolist() == [0.0, 0.5, 1.0]
    run = lambda counts: {"n": 2, "correct_per_problem": counts, "pass@1": sum(counts) / 2 / len(counts)}  # noqa: E731
    evals = {"sft": {"rl": {0: run([1, 1, 0]), 1: run([1, 0, 0])}, "sft": {0: run([0, 0, 0]), 1: run([0, 0, 0])}},
             "pear": {"rl": {0: run([2, 1, 0]), 1: run([2, 0, 1])}, "sft": {0: run([0, 0, 0]), 1: run([0, 0, 0])}}}
    # the numbers of the test above: pear pass@1 per puzzle [1, .5, 0] and [1, 0, .5], sft [.5, .5, 0] and [.5, 0, 0]
    assert verdicts(evals, ["sft", "pear"], ["pass@1"])[0] == (
        "PEAR − SFT post-RL pass@1: +25.0 ± 11.8 points (2 seeds, 3 puzzles): within the noise of seeds and test puzzles "
        "(|mean| ≤ 2 SE = 33.3; SE seeds 8.33, test puzzles 14.43)")
