"""Cryptarithm: letters stand for distinct digits; find them so that the addition holds (SEND+MORE=MONEY).

Puzzle: {"words": ["SEND", "MORE"], "result": "MONEY", "solution": {"S": 9, ...}}; generated puzzles
have exactly one solution, and no number starts with 0. The answer is the letter-to-digit mapping,
e.g. "S=9, E=5, N=6, D=7, M=1, O=0, R=8, Y=2". Correct means a valid solution (any). Partial credit:
the share of letters mapped as in the unique solution.

Knobs: n_words (addends, 2–3), digits (length of each addend, 2–4).
"""

from __future__ import annotations

import random
import re
from typing import Optional

from reward_fns.games import Game, Verdict, answer_instruction, register_game

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def solutions(words: list[str], result: str, limit: int = 2) -> list[dict[str, int]]:
    """Up to `limit` solutions, by column-wise backtracking from the least significant digit."""
    width = len(result)
    columns = [[w[-1 - i] for w in words if i < len(w)] for i in range(width)]
    leading = {w[0] for w in words + [result] if len(w) > 1}
    order: list[str] = []
    for i, col in enumerate(columns):
        for ch in col + [result[-1 - i]]:
            if ch not in order:
                order.append(ch)
    found: list[dict[str, int]] = []
    assign: dict[str, int] = {}
    used = [False] * 10

    def column_ok(i: int, carry: int) -> Optional[int]:
        total = carry + sum(assign[ch] for ch in columns[i])
        return total // 10 if total % 10 == assign[result[-1 - i]] else None

    def extend(col: int, carry: int, pending: list[str]) -> None:
        if len(found) >= limit:
            return
        if pending:
            ch, rest = pending[0], pending[1:]
            for d in range(10):
                if not used[d] and not (d == 0 and ch in leading):
                    used[d], assign[ch] = True, d
                    extend(col, carry, rest)
                    used[d] = False
                    del assign[ch]
            return
        if col == width:
            if carry == 0:
                found.append(dict(assign))
            return
        nxt = column_ok(col, carry)
        if nxt is None:
            return
        new = [ch for ch in dict.fromkeys(columns[col + 1] + [result[-2 - col]]) if ch not in assign] if col + 1 < width else []
        extend(col + 1, nxt, new)

    first = [ch for ch in dict.fromkeys(columns[0] + [result[-1]])]
    extend(0, 0, first)
    return found


def parse_mapping(answer: str) -> dict[str, int]:
    pairs = re.findall(r"\b([A-Za-z])\s*(?:=|:|->|→|is)\s*(\d)\b", answer)
    mapping: dict[str, int] = {}
    for letter, digit in pairs:
        letter = letter.upper()
        if mapping.get(letter, int(digit)) != int(digit):
            return {}  # contradictory answer
        mapping[letter] = int(digit)
    return mapping


@register_game
class Cryptarithm(Game):
    name = "cryptarithm"
    knobs = {"n_words": 2, "digits": 3}

    def generate(self, rng: random.Random, **knobs) -> dict:
        k = {**self.knobs, **knobs}
        low, high = 10 ** (k["digits"] - 1), 10 ** k["digits"] - 1
        while True:
            numbers = [rng.randint(low, high) for _ in range(k["n_words"])]
            total = sum(numbers)
            digits_used = sorted(set("".join(map(str, numbers + [total]))))
            letters = rng.sample(LETTERS, len(digits_used))
            code = dict(zip(digits_used, letters))
            words = ["".join(code[d] for d in str(n)) for n in numbers]
            result = "".join(code[d] for d in str(total))
            found = solutions(words, result)
            if len(found) == 1:
                return {"words": words, "result": result, "solution": found[0]}

    def prompt(self, puzzle: dict) -> str:
        equation = " + ".join(puzzle["words"]) + " = " + puzzle["result"]
        return (
            f"Solve the cryptarithm {equation}. Each letter stands for a different digit, the same letter for the "
            "same digit, and no number starts with 0. "
            + answer_instruction("as letter=digit pairs, for example <answer>A=1, B=2, C=3</answer>.")
        )

    def solve(self, puzzle: dict) -> str:
        (found,) = solutions(puzzle["words"], puzzle["result"], limit=1)
        return ", ".join(f"{ch}={found[ch]}" for ch in sorted(found))

    def check(self, puzzle: dict, answer: str) -> Verdict:
        mapping = parse_mapping(answer)
        truth = puzzle["solution"]
        partial = sum(mapping.get(ch) == d for ch, d in truth.items()) / len(truth)
        letters = set(truth)
        if set(mapping) != letters or len(set(mapping.values())) != len(mapping):
            return Verdict(False, partial)
        if any(mapping[w[0]] == 0 for w in puzzle["words"] + [puzzle["result"]] if len(w) > 1):
            return Verdict(False, partial)

        def value(word: str) -> int:
            return int("".join(str(mapping[ch]) for ch in word))

        valid = sum(value(w) for w in puzzle["words"]) == value(puzzle["result"])
        return Verdict(valid, 1.0 if valid else partial)
