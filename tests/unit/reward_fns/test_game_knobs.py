"""Game knobs are checked before any puzzle is drawn, and generation never loops forever: the countdown
reach bound against a brute force over every expression; bad knobs named; bounded draws."""

import itertools
import random
from fractions import Fraction

import pytest

from reward_fns.games import BUILTIN_GAMES, get_game
from reward_fns.games.countdown import reach
from tests.unit.reward_fns.test_games import KNOBS


def all_values(numbers: list[Fraction]) -> set[Fraction]:
    """Every value of every expression over all of `numbers` with + - * / (plain exhaustive reference)."""
    if len(numbers) == 1:
        return {numbers[0]}
    out = set()
    for i, j in itertools.permutations(range(len(numbers)), 2):
        rest = [numbers[k] for k in range(len(numbers)) if k not in (i, j)]
        a, b = numbers[i], numbers[j]
        for value in (a + b, a - b, a * b, a / b if b else None):
            if value is not None:
                out |= all_values(rest + [value])
    return out


@pytest.mark.parametrize("n,max_number", [(1, 7), (2, 5), (3, 4), (4, 3)])
def test_reach_bounds_every_value_and_its_numerator_and_denominator(n, max_number):
    bound = reach({"n_numbers": n, "max_number": max_number})
    worst = 0
    for numbers in itertools.combinations_with_replacement(range(1, max_number + 1), n):
        for v in all_values([Fraction(x) for x in numbers]):
            worst = max(worst, abs(v.numerator), v.denominator)
    assert worst <= bound
    assert worst >= max_number ** n  # the bound is not vacuous: products reach M^n


@pytest.mark.parametrize("name", BUILTIN_GAMES)
def test_defaults_and_tested_settings_pass(name):
    game = get_game(name)
    for knobs in [{}, *KNOBS[name]]:
        assert game.check_knobs(knobs) == {**game.knobs, **knobs}


@pytest.mark.parametrize(
    "name,knobs,named",
    [
        ("countdown", {"n_numbers": "4"}, "n_numbers='4' must be an integer"),
        ("countdown", {"use_all": 1}, "use_all=1 must be true or false"),
        ("countdown", {"n_numbers": 1}, "n_numbers=1 must be in [2, 8]"),
        ("countdown", {"target_min": 10**6, "target_max": 10**7, "n_numbers": 2, "max_number": 10}, "no target in [target_min, target_max]"),
        ("game24", {"n_numbers": 6}, "n_numbers=6 must be in [2, 5]"),
        ("game24", {"target": -10**6}, "target=-1000000 is unreachable"),
        ("sudoku", {"size": 16}, "size=16 must be 4 or 9"),
        ("sudoku", {"size": 4, "clues": 16}, "clues=16 must be in [0, 15]"),
        ("knights_knaves", {"depth": 0}, "depth=0 must be in [1, 6]"),
        ("maze", {"loops": 1.5}, "loops=1.5 must be in [0, 1]"),
        ("maze", {"rows": 0}, "rows=0 must be >= 1"),
        ("cryptarithm", {"n_words": 1}, "n_words=1 must be >= 2"),
        ("cryptarithm", {"digits": 0.5}, "digits=0.5 must be an integer"),
    ],
)
def test_bad_knobs_are_named_before_drawing(name, knobs, named):
    with pytest.raises(ValueError, match=f"game '{name}': .*" + named.replace("[", r"\[").replace("(", r"\(")):
        get_game(name).check_knobs(knobs)


def test_game24_rare_target_ends_after_bounded_draws(monkeypatch):
    game = get_game("game24")
    monkeypatch.setattr(type(game), "max_draws", 20)
    # 5000 is below the bound for four numbers up to 13, but (almost) no draw reaches it.
    with pytest.raises(ValueError, match="no puzzle met knobs {'target': 5000} in 20 draws"):
        game.generate(random.Random(0), target=5000)
