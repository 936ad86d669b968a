"""Cryptarithm: letters stand for distinct digits; find them so that the addition holds (SEND+MORE=MONEY).

Puzzle: {"words": ["SEND", "MORE"], "result": "MONEY", "hints": {"E": 5}, "solution": {"S": 9, ...}}.
Random additions rarely have one solution, so the generator reveals letters (hints, stated in the
prompt) until exactly one solution is left; no number starts with 0. The answer is the letter-to-digit mapping,
e.g. "S=9, E=5, N=6, D=7, M=1, O=0, R=8, Y=2". Correct means a valid solution (any). Partial credit:
the share of letters mapped as in the unique solution.

Knobs: n_words (addends, 2–3), digits (length of each addend, 2–4).
"""

from __future__ import annotations

import itertools
import random
import re
from typing import Optional

from reward_fns.games.base import Game, Verdict, answer_instruction, in_range, register_game

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def solutions(words: list[str], result: str, limit: int = 2, hints: dict[str, int] | None = None) -> list[dict[str, int]]:
    """Up to `limit` solutions (respecting the given `hints`), by column-wise backtracking from the
    least significant digit."""
    width = len(result)
    columns = [[w[-1 - i] for w in words if i < len(w)] for i in range(width)]
    leading = {w[0] for w in words + [result] if len(w) > 1}
    order: list[str] = []
    for i, col in enumerate(columns):
        for ch in col + [result[-1 - i]]:
            if ch not in order:
                order.append(ch)
    found: list[dict[str, int]] = []
    assign: dict[str, int] = dict(hints or {})
    used = [d in assign.values() for d in range(10)]

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

    first = [ch for ch in dict.fromkeys(columns[0] + [result[-1]]) if ch not in assign]
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

    def knob_problems(self, k: dict) -> list[str]:
        return in_range(k, "n_words", 2) + in_range(k, "digits", 1)

    def generate(self, rng: random.Random, **knobs) -> dict:
        k = {**self.knobs, **knobs}
        low, high = 10 ** (k["digits"] - 1), 10 ** k["digits"] - 1
        numbers = [rng.randint(low, high) for _ in range(k["n_words"])]
        total = sum(numbers)
        digits_used = sorted(set("".join(map(str, numbers + [total]))))
        code = dict(zip(digits_used, rng.sample(LETTERS, len(digits_used))))
        words = ["".join(code[d] for d in str(n)) for n in numbers]
        result = "".join(code[d] for d in str(total))
        truth = {letter: int(digit) for digit, letter in code.items()}
        hints: dict[str, int] = {}
        # Random additions rarely have one solution; reveal letters two solutions disagree on until one is left.
        while len(found := solutions(words, result, hints=hints)) > 1:
            disagree = sorted(ch for ch in found[0] if found[0][ch] != found[1][ch])
            letter = rng.choice(disagree)
            hints[letter] = truth[letter]
        return {"words": words, "result": result, "hints": hints, "solution": truth}

    def prompt(self, puzzle: dict) -> str:
        equation = " + ".join(puzzle["words"]) + " = " + puzzle["result"]
        hints = ", ".join(f"{ch}={d}" for ch, d in sorted(puzzle["hints"].items()))
        given = f" You are told that {hints}." if hints else ""
        return (
            f"Solve the cryptarithm {equation}. Each letter stands for a different digit, the same letter for the "
            f"same digit, and no number starts with 0.{given} "
            + answer_instruction("as letter=digit pairs, for example <answer>A=1, B=2, C=3</answer>.")
        )

    def compact_prompt(self, puzzle: dict) -> str:
        hints = ",".join(f"{ch}={d}" for ch, d in sorted(puzzle["hints"].items()))
        return " + ".join(puzzle["words"]) + " = " + puzzle["result"] + (f"; {hints}" if hints else "")

    def canonical(self, puzzle: dict) -> str:
        # Letters are arbitrary and addends commute: over every order of the addends, rename letters in
        # order of first appearance; the smallest form wins.
        forms = []
        for words in itertools.permutations(puzzle["words"]):
            names: dict[str, str] = {}
            for ch in "".join(words) + puzzle["result"]:
                names.setdefault(ch, LETTERS[len(names)])
            hints = sorted(f"{names[ch]}={d}" for ch, d in puzzle["hints"].items())
            forms.append("+".join("".join(names[ch] for ch in w) for w in words) + "=" + "".join(names[ch] for ch in puzzle["result"]) + f":{hints}")
        return min(forms)

    def solve(self, puzzle: dict) -> str:
        (found,) = solutions(puzzle["words"], puzzle["result"], limit=1, hints=puzzle["hints"])
        return ", ".join(f"{ch}={found[ch]}" for ch in sorted(found))

    def check(self, puzzle: dict, answer: str) -> Verdict:
        mapping = parse_mapping(answer)
        truth = puzzle["solution"]
        partial = sum(mapping.get(ch) == d for ch, d in truth.items()) / len(truth)
        letters = set(truth)
        if set(mapping) != letters or len(set(mapping.values())) != len(mapping):
            return Verdict(False, partial)
        if any(mapping[ch] != d for ch, d in puzzle["hints"].items()):
            return Verdict(False, partial)
        if any(mapping[w[0]] == 0 for w in puzzle["words"] + [puzzle["result"]] if len(w) > 1):
            return Verdict(False, partial)

        def value(word: str) -> int:
            return int("".join(str(mapping[ch]) for ch in word))

        valid = sum(value(w) for w in puzzle["words"]) == value(puzzle["result"])
        return Verdict(valid, 1.0 if valid else partial)
