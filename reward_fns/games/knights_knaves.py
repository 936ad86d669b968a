"""Knights and Knaves: knights always tell the truth, knaves always lie. Who is who?

Puzzle: {"people": [names], "statements": [[speaker, formula], ...], "solution": {name: "knight"|"knave"}}.
Formulas are small JSON trees: ["is", name, "knight"|"knave"], ["not", f], ["and", f, g], ["or", f, g],
["same", a, b] (a and b are of the same kind). Generated puzzles have exactly one consistent assignment.
The answer names everyone's role, e.g. "Alice is a knight, Bob is a knave". Partial credit: the share
of people classified right.

Knobs: n_people (2–8), depth (max formula nesting, 1–3). Speakers may talk about themselves.
"""

from __future__ import annotations

import itertools
import json
import random
import re

from reward_fns.games.base import Game, Verdict, answer_instruction, in_range, register_game

MAX_TRIES = 10_000
MAX_DEPTH = 6
NAMES = ["Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Iris", "Jack"]


def holds(formula: list, roles: dict[str, bool]) -> bool:
    """Truth of `formula` when roles[name] is True for knights."""
    op = formula[0]
    if op == "is":
        return roles[formula[1]] == (formula[2] == "knight")
    if op == "not":
        return not holds(formula[1], roles)
    if op == "and":
        return holds(formula[1], roles) and holds(formula[2], roles)
    if op == "or":
        return holds(formula[1], roles) or holds(formula[2], roles)
    if op == "same":
        return roles[formula[1]] == roles[formula[2]]
    raise ValueError(f"unknown operator {op!r}")


def render(formula: list) -> str:
    op = formula[0]
    if op == "is":
        return f"{formula[1]} is a {formula[2]}"
    if op == "not":
        return f"it is not true that {render(formula[1])}"
    if op == "same":
        return f"{formula[1]} and {formula[2]} are the same kind"
    return f"({render(formula[1])} {op} {render(formula[2])})"


def consistent(people: list[str], statements: list) -> list[dict[str, bool]]:
    """Every knight/knave assignment under which each speaker's statement is true iff they are a knight."""
    found = []
    for values in itertools.product((True, False), repeat=len(people)):
        roles = dict(zip(people, values))
        if all(holds(f, roles) == roles[speaker] for speaker, f in statements):
            found.append(roles)
    return found


def _random_formula(rng: random.Random, people: list[str], depth: int) -> list:
    if depth <= 1 or rng.random() < 0.4:
        if rng.random() < 0.2 and len(people) > 1:
            return ["same", *rng.sample(people, 2)]
        return ["is", rng.choice(people), rng.choice(("knight", "knave"))]
    op = rng.choice(("and", "or", "not"))
    if op == "not":
        return ["not", _random_formula(rng, people, depth - 1)]
    return [op, _random_formula(rng, people, depth - 1), _random_formula(rng, people, depth - 1)]


@register_game
class KnightsKnaves(Game):
    name = "knights_knaves"
    knobs = {"n_people": 3, "depth": 2}

    def knob_problems(self, k: dict) -> list[str]:
        # One person alone never has a unique solution; formulas double in size with each level of depth.
        return in_range(k, "n_people", 2, len(NAMES)) + in_range(k, "depth", 1, MAX_DEPTH)

    def generate(self, rng: random.Random, **knobs) -> dict:
        k = {**self.knobs, **knobs}
        for _ in range(MAX_TRIES):
            people = rng.sample(NAMES, k["n_people"])
            statements = [[p, _random_formula(rng, people, k["depth"])] for p in people]
            solutions = consistent(people, statements)
            if len(solutions) == 1:
                roles = solutions[0]
                return {
                    "people": people,
                    "statements": statements,
                    "solution": {p: "knight" if roles[p] else "knave" for p in people},
                }
        raise ValueError(f"no puzzle with a unique solution found for knobs {k} in {MAX_TRIES} tries")

    def prompt(self, puzzle: dict) -> str:
        lines = "\n".join(f"{speaker} says: \"{render(f)}\"." for speaker, f in puzzle["statements"])
        return (
            "On an island, knights always tell the truth and knaves always lie. You meet "
            f"{', '.join(puzzle['people'])}.\n{lines}\nWho is a knight and who is a knave? "
            + answer_instruction("naming everyone, for example <answer>Alice is a knight, Bob is a knave</answer>.")
        )

    def compact_prompt(self, puzzle: dict) -> str:
        return "\n".join(f"{speaker}: {render(f)}" for speaker, f in puzzle["statements"])

    def canonical(self, puzzle: dict) -> str:
        # Names are arbitrary, statements unordered, and/or/same symmetric: the smallest normal form over
        # all renamings of the people to P0, P1, ... (n_people <= 8: at most 40320 renamings).
        def normal(f: list, rename: dict) -> list:
            op = f[0]
            if op == "is":
                return ["is", rename[f[1]], f[2]]
            if op == "same":
                return ["same", *sorted((rename[f[1]], rename[f[2]]))]
            if op == "not":
                return ["not", normal(f[1], rename)]
            return [op, *sorted((normal(f[1], rename), normal(f[2], rename)), key=json.dumps)]

        forms = []
        for order in itertools.permutations(puzzle["people"]):
            rename = {name: f"P{i}" for i, name in enumerate(order)}
            statements = sorted(json.dumps([rename[s], normal(f, rename)]) for s, f in puzzle["statements"])
            forms.append(json.dumps(statements))
        return min(forms)

    def solve(self, puzzle: dict) -> str:
        (roles,) = consistent(puzzle["people"], puzzle["statements"])
        return ", ".join(f"{p} is a {'knight' if roles[p] else 'knave'}" for p in puzzle["people"])

    def check(self, puzzle: dict, answer: str) -> Verdict:
        claimed: dict[str, str] = {}
        for name in puzzle["people"]:
            said = re.findall(rf"\b{re.escape(name)}\b\W*(?:is\W+)?(?:an?\W+)?(knight|knave)", answer, re.IGNORECASE)
            if len(set(s.lower() for s in said)) == 1:  # named exactly one role (repeats allowed)
                claimed[name] = said[0].lower()
        truth = puzzle["solution"]
        right = sum(claimed.get(p) == truth[p] for p in puzzle["people"])
        return Verdict(right == len(truth), right / len(truth))
