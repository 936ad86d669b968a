"""`pear_verl.demo.task`: both writing styles find a solution for exactly the targets a brute force over every
expression tree reaches (permutations × operators × both bracketings, exact fractions), and every expression
they list is right."""

import itertools
import random
import re
from fractions import Fraction

import pytest

from pear_verl.demo.task import KNOBS, all_solutions
from reward_fns.games import get_game

GAME = get_game("countdown")


def brute_force_targets(numbers: list[int]) -> set[int]:
    """Every integer 1–100 some expression using each number once reaches."""
    def op(x, y, o):
        if o == "/" and y == 0:
            return None
        return {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else None}[o]

    found = set()
    for a, b, c in itertools.permutations(map(Fraction, numbers)):
        for o1, o2 in itertools.product("+-*/", repeat=2):
            left = op(a, b, o1)
            right = op(b, c, o2)
            for value in (op(left, c, o2) if left is not None else None, op(a, right, o1) if right is not None else None):
                if value is not None and value.denominator == 1 and 1 <= value <= 100:
                    found.add(int(value))
    return found


@pytest.mark.parametrize("seed", range(12))
def test_every_reachable_target_has_solutions_and_each_is_right(seed):
    rng = random.Random(seed)
    numbers = [rng.randint(1, KNOBS["max_number"]) for _ in range(3)]
    reachable = brute_force_targets(numbers)
    for target in range(1, 101):
        teacher, base = all_solutions(numbers, target), all_solutions(numbers, target, "base")
        assert bool(teacher) == (target in reachable) == bool(base), (numbers, target)
        puzzle = {"numbers": numbers, "target": target, "use_all": True}
        for expr in teacher + base:
            assert GAME.check(puzzle, expr).correct, (puzzle, expr)


def test_base_style_writes_the_larger_operand_first_in_the_teachers_tokens():
    for target in range(1, 101):
        for expr in all_solutions([2, 7, 9], target, "base"):
            for a, b in re.findall(r"(?<![\d)])(\d+) [+*] (\d+)(?![\d(])", expr):
                assert int(a) >= int(b), expr
        for expr in all_solutions([2, 7, 9], target) + all_solutions([2, 7, 9], target, "base"):
            # spaced alike: a space-free base never produced the teacher's space-prefixed tokens and SFT broke it
            assert re.fullmatch(r"[\d()]+( [-+*/] [\d()]+)+", expr), expr
