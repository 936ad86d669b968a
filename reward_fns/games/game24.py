"""The 24 game: use four numbers from 1–13, each exactly once, with + − × ÷ to make 24.

Countdown with fixed rules; puzzles are drawn at random and kept only if the solver finds a
solution, so every puzzle is solvable. Knobs: max_number (13), target (24), n_numbers (4).
"""

from __future__ import annotations

import random

from reward_fns.games import register_game
from reward_fns.games.countdown import Countdown, search


@register_game
class Game24(Countdown):
    name = "game24"
    knobs = {"n_numbers": 4, "max_number": 13, "target": 24}

    def generate(self, rng: random.Random, **knobs) -> dict:
        k = {**self.knobs, **knobs}
        while True:
            numbers = [rng.randint(1, k["max_number"]) for _ in range(k["n_numbers"])]
            if search(numbers, k["target"], use_all=True) is not None:
                return {"numbers": numbers, "target": k["target"], "use_all": True}
