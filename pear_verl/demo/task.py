"""The demo's task and its two writing styles: small countdown (3 numbers <= 10, targets 1-100) with
compact prompts such as `3 6 2 -> 1`.

Why this task: a CPU-sized model learns it within minutes and generalises to held-out puzzles, and
most puzzles have several solutions, so pass@k rises well above pass@1 (room for RL). Why two styles:
PEAR's weights δ = log π_θ − log π_β only mean something when the student has a prior of its own that
differs from the teacher's, as a pretrained base model does. So
  - the *teacher* learns every valid expression of a puzzle, spaced and left-to-right: `(3 + 6) / 9`;
  - the *base* student learns one solution per puzzle on other puzzles, with the larger operand of + and ×
    first: `9 / (6 + 3)`. Both are correct answers to the verifier; the teacher's samples are off-policy
    for the student, as on real clusters. Same tokens, other choices: an earlier base written without
    spaces had never produced the teacher's space-prefixed tokens, and SFT from it broke the student
    (pass@1 0 after 40 steps) instead of moving its distribution.

Run: `python -m pear_verl.demo.task` prints a few puzzles with both styles.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pandas as pd

from pear_verl.common.io import write_parquet_atomic
from reward_fns.games.countdown import _combine as combine

GAME = "countdown"
KNOBS = {"n_numbers": 3, "max_number": 10, "target_min": 1, "target_max": 100, "use_all": True}
PROMPT_STYLE = "compact"


def all_solutions(numbers: list[int], target: int, style: str = "teacher") -> list[str]:
    """Every distinct expression using each number once that equals `target` (exact arithmetic), sorted.

    teacher style: `(a op b) op c` with spaces; commutative pairs written in the order merged.
    base style: the larger operand of + and * first, so the same solution reads differently."""
    goal = Fraction(target)
    found: set[str] = set()

    def render(a: tuple, b: tuple, op: str) -> str:
        (va, ea), (vb, eb) = a, b
        if style == "base" and op in "+*" and va < vb:
            ea, eb = eb, ea
        return f"({ea} {op} {eb})"

    def dfs(items: list[tuple[Fraction, str]]) -> None:
        if len(items) == 1:
            if items[0][0] == goal:
                expr = items[0][1]
                found.add(expr[1:-1] if expr.startswith("(") and expr.endswith(")") else expr)
            return
        for i in range(len(items)):
            for j in range(len(items)):
                if i == j:
                    continue
                rest = [items[k] for k in range(len(items)) if k not in (i, j)]
                for op in "+-*/":
                    if op in "+*" and i > j:
                        continue
                    value = combine(items[i][0], items[j][0], op)
                    if value is not None:
                        dfs(rest + [(value, render(items[i], items[j], op))])

    dfs([(Fraction(n), str(n)) for n in numbers])
    return sorted(found)


def sft_rows(rl_rows: pd.DataFrame, style: str, per_puzzle: int | None) -> pd.DataFrame:
    """SFT conversations for RL rows: up to `per_puzzle` solutions each (None: all), in `style`."""
    import json

    rows = []
    for prompt, reward_model in zip(rl_rows["prompt"], rl_rows["reward_model"]):
        puzzle = json.loads(reward_model["ground_truth"])
        answers = all_solutions(puzzle["numbers"], puzzle["target"], style)
        for answer in answers[:per_puzzle] if per_puzzle else answers:
            rows.append({"messages": [{"role": "user", "content": prompt[0]["content"]},
                                      {"role": "assistant", "content": f"<answer>{answer}</answer>"}]})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)


def write_sft(rl_rows: pd.DataFrame, style: str, per_puzzle: int | None, out, n_val: int = 64) -> None:
    """`<out>_train.parquet` / `<out>_val.parquet` of `sft_rows` (the first `n_val` rows are validation)."""
    rows = sft_rows(rl_rows, style, per_puzzle)
    write_parquet_atomic(rows[n_val:], f"{out}_train.parquet")
    write_parquet_atomic(rows[:n_val], f"{out}_val.parquet")


if __name__ == "__main__":
    from reward_fns.games import get_game

    game, rng = get_game(GAME), random.Random(0)
    for _ in range(5):
        p = game.generate(rng, **KNOBS)
        print(game.compact_prompt(p), "| teacher:", all_solutions(p["numbers"], p["target"]), "| base:", all_solutions(p["numbers"], p["target"], "base")[:1])
