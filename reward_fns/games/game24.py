"""The 24 game: use four numbers from 1–13, each exactly once, with + − × ÷ to make 24.

Countdown with fixed rules; puzzles are drawn at random and kept only if the solver finds a
solution, so every puzzle is solvable. Knobs: max_number (13), target (24), n_numbers (4).
"""

from __future__ import annotations

import random

from reward_fns.games.base import in_range, register_game
from reward_fns.games.countdown import Countdown, reach, search


@register_game
class Game24(Countdown):
    name = "game24"
    knobs = {"n_numbers": 4, "max_number": 13, "target": 24}
    max_draws = 200  # each draw runs the solver (~15 ms for 4 numbers, ~0.5 s for 5 when unsolvable)

    def knob_problems(self, k: dict) -> list[str]:
        problems = in_range(k, "n_numbers", 2, 5) + in_range(k, "max_number", 1)
        if not problems and abs(k["target"]) > reach(k):
            problems.append(f"knob target={k['target']} is unreachable with n_numbers={k['n_numbers']} numbers up to "
                            f"max_number={k['max_number']} (|target| <= {reach(k)})")
        return problems

    def generate(self, rng: random.Random, **knobs) -> dict:
        k = {**self.knobs, **knobs}
        for _ in range(self.max_draws):
            numbers = [rng.randint(1, k["max_number"]) for _ in range(k["n_numbers"])]
            if search(numbers, k["target"], use_all=True) is not None:
                return {"numbers": numbers, "target": k["target"], "use_all": True}
        raise self.no_puzzle(knobs, self.max_draws)
