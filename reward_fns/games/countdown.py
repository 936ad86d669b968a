"""Countdown: combine the given numbers with + − × ÷ to hit a target.

Puzzle: {"numbers": [...], "target": int, "use_all": bool}. The answer is an arithmetic expression,
e.g. `(25 - 5) * 4`; an optional trailing "= <target>" is ignored. With `use_all` every number must be
used exactly once, otherwise each at most once. Intermediate fractions are allowed (exact arithmetic).

Knobs: n_numbers (how many), max_number (largest number), target_min / target_max, use_all.
Run: `python -m reward_fns.games` shows an example prompt.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from fractions import Fraction
from typing import Optional

from reward_fns.games.arithmetic import ArithmeticRejected, evaluate
from reward_fns.games.base import Game, Verdict, answer_instruction, in_range, register_game

_TRAILING_EQUALS = re.compile(r"=\s*-?\d+\s*$")
_OPS = "+-*/"
MAX_NUMBERS = 8  # the solver (`--sft` answers) is exponential in the count


def reach(knobs: dict) -> int:
    """A bound on |value| of any expression over n_numbers integers in 1..max_number: writing each value
    as p/q, |p| and |q| stay <= 2^(k-1)·Π numbers over the k numbers used (induction over + − × ÷)."""
    return 2 ** (knobs["n_numbers"] - 1) * knobs["max_number"] ** knobs["n_numbers"]


def _combine(a: Fraction, b: Fraction, op: str) -> Optional[Fraction]:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b if b != 0 else None


def search(numbers: list[int], target: int, use_all: bool) -> Optional[str]:
    """An expression reaching `target` (exact arithmetic), or None. Depth-first over pair merges."""
    goal = Fraction(target)
    seen: set[tuple] = set()

    def dfs(items: list[tuple[Fraction, str]]) -> Optional[str]:
        if not use_all:
            for value, expr in items:
                if value == goal:
                    return expr
        if len(items) == 1:
            return items[0][1] if items[0][0] == goal else None
        key = tuple(sorted(v for v, _ in items))
        if key in seen:
            return None
        seen.add(key)
        for i in range(len(items)):
            for j in range(len(items)):
                if i == j:
                    continue
                (a, ea), (b, eb) = items[i], items[j]
                rest = [items[k] for k in range(len(items)) if k not in (i, j)]
                for op in _OPS:
                    if op in "+*" and i > j:  # commutative: one order is enough
                        continue
                    value = _combine(a, b, op)
                    if value is not None:
                        found = dfs(rest + [(value, f"({ea} {op} {eb})")])
                        if found:
                            return found
        return None

    found = dfs([(Fraction(n), str(n)) for n in numbers])
    return found[1:-1] if found and found.startswith("(") and found.endswith(")") else found


@register_game
class Countdown(Game):
    name = "countdown"
    knobs = {"n_numbers": 4, "max_number": 100, "target_min": 10, "target_max": 1000, "use_all": True}
    max_draws = 100_000  # a draw is a few microseconds; most knobs need a handful

    def knob_problems(self, k: dict) -> list[str]:
        problems = in_range(k, "n_numbers", 2, MAX_NUMBERS) + in_range(k, "max_number", 1)
        if not problems and k["target_min"] > k["target_max"]:
            problems.append(f"knob target_min={k['target_min']} must be <= target_max={k['target_max']}")
        if not problems and not (-reach(k) <= k["target_max"] and k["target_min"] <= reach(k)):
            problems.append(f"no target in [target_min, target_max] = [{k['target_min']}, {k['target_max']}] is reachable with "
                            f"n_numbers={k['n_numbers']} numbers up to max_number={k['max_number']} (|target| <= {reach(k)})")
        return problems

    def generate(self, rng: random.Random, **knobs) -> dict:
        k = {**self.knobs, **knobs}
        for _ in range(self.max_draws):
            numbers = [rng.randint(1, k["max_number"]) for _ in range(k["n_numbers"])]
            # A random expression over (a subset of) the numbers fixes a reachable integer target.
            pool = [Fraction(n) for n in (numbers if k["use_all"] else rng.sample(numbers, rng.randint(2, len(numbers))))]
            rng.shuffle(pool)
            while len(pool) > 1:
                a, b = pool.pop(), pool.pop()
                value = _combine(a, b, rng.choice(_OPS))
                pool.append(value if value is not None else a + b)
            target = pool[0]
            if target.denominator == 1 and k["target_min"] <= target <= k["target_max"]:
                return {"numbers": numbers, "target": int(target), "use_all": bool(k["use_all"])}
        raise self.no_puzzle(knobs, self.max_draws)

    def prompt(self, puzzle: dict) -> str:
        rule = "each number exactly once" if puzzle["use_all"] else "each number at most once"
        return (
            f"Using the numbers {puzzle['numbers']}, write an arithmetic expression that equals {puzzle['target']}. "
            f"You may use +, -, * and / and parentheses, and {rule}. "
            + answer_instruction("for example <answer>(1 + 2) * 3</answer>.")
        )

    def compact_prompt(self, puzzle: dict) -> str:
        # "3 6 2 -> 1": the numbers, the target, and "any" when not every number must be used.
        rule = "" if puzzle["use_all"] else " any"
        return " ".join(map(str, puzzle["numbers"])) + f" -> {puzzle['target']}{rule}"

    def canonical(self, puzzle: dict) -> str:
        # The order of the numbers is no part of the problem: 3 6 2 -> 1 and 2 3 6 -> 1 are one puzzle.
        return f"{sorted(puzzle['numbers'])}->{puzzle['target']}:{bool(puzzle['use_all'])}"

    def solve(self, puzzle: dict) -> str:
        found = search(puzzle["numbers"], puzzle["target"], puzzle["use_all"])
        if found is None:
            raise ValueError(f"no solution for {puzzle}")
        return found

    def check(self, puzzle: dict, answer: str) -> Verdict:
        try:
            result = evaluate(_TRAILING_EQUALS.sub("", answer))
        except ArithmeticRejected:
            return Verdict(False)
        used, given = Counter(result.numbers), Counter(puzzle["numbers"])
        numbers_ok = used == given if puzzle["use_all"] else not (used - given)
        hit = result.value == puzzle["target"]
        # Partial credit only for a legal expression (right numbers), never for merely stating the target.
        return Verdict(numbers_ok and hit, partial=0.1 * numbers_ok)
