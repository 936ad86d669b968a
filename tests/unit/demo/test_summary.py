"""The demo's statistics and verdict lines against numbers worked out by hand (in the comments); the verdict
method itself is tested in test_verdict.py."""

import math

import pytest

from pear_verl.demo.summary import grpo_line, mean_sd, reward_rise, tables, verdicts


def test_mean_sd():
    assert mean_sd([0.1, 0.3]) == pytest.approx((0.2, math.sqrt(0.02)))
    assert math.isnan(mean_sd([1.0])[1])


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
        "sft": {"sft": {0: run(0.25, 0.5), 1: run(0.5, 0.75)}, "rl": {0: run(0.25, 0.5), 1: run(0.5, 0.75)}},
        "pear": {"sft": {0: run(0.25, 0.5), 1: run(0.5, 0.75)}, "rl": {0: run(0.375, 0.5), 1: run(0.625, 0.75)}},
    }
    table = tables(evals, ["sft", "pear"], ["pass@1", "pass@8"])
    # sft post-RL pass@1: 25 and 50 -> mean 37.5, sd √((12.5² + 12.5²) / 1) = 17.7
    assert "| sft | post-RL | 2 | 37.5 ± 17.7 | 62.5 ± 17.7 |" in table
    assert "| teacher | – | 1 | 60.0 | 90.0 |" in table
    lines = verdicts(evals, ["sft", "pear"], ["pass@1", "pass@8"])
    # post-RL pass@1 diffs +12.5, +12.5 (exact in binary): no spread, so a non-zero mean is beyond it;
    # post-RL pass@8 diffs 0, 0
    assert lines[0] == ("PEAR − SFT post-RL pass@1: +12.5 points, 95% CI [+12.5, +12.5] (2 seeds, test puzzles held fixed): "
                        "beyond the seed spread (p = 0, t on 1.0 df; SE 0.00); 80% power at this size needs 2 seeds")
    assert lines[1].startswith("PEAR − SFT post-RL pass@8: +0.0 points, 95% CI [+0.0, +0.0] (2 seeds, test puzzles held fixed): within")
    assert lines[2].startswith("PEAR − SFT post-SFT pass@1: +0.0 points") and len(lines) == 4


def test_verdicts_use_per_puzzle_scores():
    run = lambda counts: {"n": 2, "correct_per_problem": counts, "pass@1": sum(counts) / 2 / len(counts)}  # noqa: E731
    evals = {"sft": {"rl": {0: run([1, 1, 0]), 1: run([1, 0, 0])}, "sft": {0: run([0, 0, 0]), 1: run([0, 0, 0])}},
             "pear": {"rl": {0: run([2, 1, 0]), 1: run([2, 0, 1])}, "sft": {0: run([0, 0, 0]), 1: run([0, 0, 0])}}}
    # pass@1 per puzzle: pear [1, .5, 0] and [1, 0, .5], sft [.5, .5, 0] and [.5, 0, 0] -> differences
    # d = [[.5, 0, 0], [.5, 0, .5]], mean .25. Seed means 1/6, 1/3: MS_seeds = 3 (2 · (1/12)²) = 1/24.
    # Puzzle means .5, 0, .25: MS_puzzles = 2 (2 · .25²) / 2 = 1/8. Residuals ±1/12 (four) and ±1/6 (two):
    # MS_resid = (4/144 + 2/36) / 2 = 1/24. SE seeds² = (1/24) / 6, SE puzzles² = (1/8 − 1/24) / 6:
    # SE seeds 8.33, test puzzles 11.79, SE 14.43 points; df = (1/48)² / ((1/144)² + (1/48)²/2 + (1/144)²/2) = 1.5.
    line = verdicts(evals, ["sft", "pear"], ["pass@1"])[0]
    assert line.startswith("PEAR − SFT post-RL pass@1: +25.0 points, 95% CI [")
    assert "(2 seeds × 3 puzzles): within the noise of seeds and test puzzles (p = " in line
    assert "t on 1.5 df; SE 14.43: seeds 8.33, test puzzles 11.79)" in line
