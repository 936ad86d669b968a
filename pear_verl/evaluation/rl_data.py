"""RL (and SFT) data preparation: game puzzles and math problems as verl parquet.

Why: verl GRPO reads parquet rows of the form
    {"data_source", "prompt": [{"role": "user", "content"}], "ability",
     "reward_model": {"style": "rule", "ground_truth"}, "extra_info": {...}}
and hands `data_source` + `ground_truth` to `reward_fns.compute_score`. These commands write exactly
that, with prompts asking for the answer format the verifiers expect. Games can also be written as
SFT conversations whose answers come from the game's solver (`--sft`).

Run:
    pear-verl games make --game countdown --n 10000 --test-n 500 --seed 0 --knob n_numbers=4 --out data/countdown
    pear-verl games list
    pear-verl math make --input aime24.jsonl --data-source aime24 --out data/aime24.parquet
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pear_verl.common import checks
from pear_verl.common.io import read_table, write_parquet_atomic
from reward_fns.games import PROMPT_STYLES, game_names, get_game

MATH_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


def rl_row(data_source: str, prompt: str, ground_truth: str, ability: str, split: str, index: int, **extra) -> dict:
    return {
        "data_source": data_source,
        "prompt": [{"role": "user", "content": prompt}],
        "ability": ability,
        "reward_model": {"style": "rule", "ground_truth": ground_truth},
        "extra_info": {"split": split, "index": index, **extra},
    }


def check_game_request(game_name: str, n_train: int, n_test: int, knobs: dict):
    """(game, all knobs) if `games make` can be done, else a ValueError naming every bad flag and knob.
    Draws nothing."""
    problems = checks.collect(
        lambda: checks.number("--n", n_train, integer=True, low=1),
        lambda: checks.number("--test-n", n_test, integer=True, low=1),
        lambda: get_game(game_name).check_knobs(knobs),
    )
    if problems:
        raise ValueError("; ".join(problems))
    game = get_game(game_name)
    return game, game.check_knobs(knobs)


MAX_DUPLICATE_DRAWS = 10_000  # the knobs admit (almost) no new puzzles: fail instead of looping forever


def make_game_data(game_name: str, n_train: int, n_test: int, seed: int, knobs: dict, out_dir: str | Path, sft: bool = False,
                   prompt_style: str = "full") -> dict:
    """Write train.parquet / test.parquet (and sft_train.parquet) for one game. Splits are disjoint on the
    game's canonical form (`Game.canonical`): no test puzzle is a train puzzle reordered or renamed.
    Returns the row counts."""
    game, _ = check_game_request(game_name, n_train, n_test, knobs)
    game_name = game.name  # "game/countdown" (as `games list` prints it) -> "countdown"
    out_dir = Path(out_dir)
    seen: set[str] = set()
    rows: dict[str, list[dict]] = {"test": [], "train": []}
    sft_rows = []
    for split, n in (("test", n_test), ("train", n_train)):
        rng = random.Random(f"{seed}-{split}")
        with tqdm(total=n, desc=f"{game_name} {split}") as bar:
            duplicates_in_a_row = 0
            while len(rows[split]) < n:
                puzzle = game.generate(rng, **knobs)
                truth, key = json.dumps(puzzle, sort_keys=True), game.canonical(puzzle)
                if key in seen:  # no duplicates, and nothing shared between test and train, up to canonical form
                    duplicates_in_a_row += 1
                    if duplicates_in_a_row > MAX_DUPLICATE_DRAWS:
                        raise ValueError(
                            f"game {game_name!r} with knobs {knobs}: found only {len(seen)} distinct puzzles after "
                            f"{MAX_DUPLICATE_DRAWS} duplicate draws in a row, {n_train + n_test} requested; use harder knobs or fewer puzzles"
                        )
                    continue
                duplicates_in_a_row = 0
                seen.add(key)
                prompt = game.styled_prompt(puzzle, prompt_style)
                rows[split].append(rl_row(f"game/{game_name}", prompt, truth, "reasoning", split, len(rows[split]), knobs=json.dumps(knobs)))
                if sft and split == "train":
                    answer = f"<answer>{game.solve(puzzle)}</answer>"
                    sft_rows.append({"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]})
                bar.update(1)
    for split, split_rows in rows.items():
        write_parquet_atomic(pd.DataFrame(split_rows), out_dir / f"{split}.parquet")
    if sft:
        write_parquet_atomic(pd.DataFrame(sft_rows), out_dir / "sft_train.parquet")
    return {split: len(r) for split, r in rows.items()}


def gold_answer(value) -> str:
    """A gold answer as text: a non-empty string, or a finite number. Anything else is refused: null
    became the gold "nan" (and `\\boxed{nan}` then scored 1), a list or a dict a Python repr."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError("empty (null, missing or NaN)")
    if isinstance(value, str):
        if not value.strip() or value.strip().lower() == "nan":
            raise ValueError(f"{value!r} is not an answer")
        return value.strip()
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number")
        return str(value)
    raise ValueError(f"a text or a number is expected, got {type(value).__name__} {value!r}"[:200])


def make_math_data(input_path: str, data_source: str, out_path: str, problem_key: str, answer_key: str, split: str) -> int:
    """Math problems from a local JSONL/JSON/parquet file -> verl RL parquet (\\boxed{} answers)."""
    frame = read_table(input_path)
    for key in (problem_key, answer_key):
        if key not in frame.columns:
            raise ValueError(f"{input_path}: missing column {key!r} (columns: {list(frame.columns)})")
    rows = []
    for i, (problem, answer) in enumerate(zip(frame[problem_key], frame[answer_key])):
        if not isinstance(problem, str) or not problem.strip():
            raise ValueError(f"{input_path}: row {i}: field {problem_key!r}: a non-empty text is expected, got {problem!r}"[:300])
        try:
            gold = gold_answer(answer)
        except ValueError as err:
            raise ValueError(f"{input_path}: row {i}: field {answer_key!r}: {err}") from None
        rows.append(rl_row(data_source, f"{problem.strip()}\n\n{MATH_INSTRUCTION}", gold, "math", split, i))
    write_parquet_atomic(pd.DataFrame(rows), out_path)
    return len(rows)


def add_commands(sub: argparse._SubParsersAction) -> None:
    games = sub.add_parser("games", help="reasoning-game data").add_subparsers(dest="games_command", required=True)
    make = games.add_parser("make", help="write verl RL parquet (train/test) for one game")
    make.add_argument("--game", required=True, help="a game as `games list` names it (countdown or game/countdown)")
    make.add_argument("--n", type=int, default=10_000, help="train puzzles (>= 1)")
    make.add_argument("--test-n", type=int, default=500, help="test puzzles (>= 1), disjoint from train")
    make.add_argument("--seed", type=int, default=0, help="random seed (same seed, same data)")
    make.add_argument("--knob", action="append", default=[], help="difficulty knob key=value, value read as JSON (repeatable)")
    make.add_argument("--sft", action="store_true", help="also write sft_train.parquet with solver answers")
    make.add_argument("--prompt-style", default="full", choices=PROMPT_STYLES, help="compact: the puzzle only, for small models")
    make.add_argument("--out", required=True, help="output folder (train.parquet, test.parquet)")
    make.set_defaults(func=lambda a: print(make_game_data(a.game, a.n, a.test_n, a.seed, checks.key_values(a.knob, "--knob"), a.out, a.sft, a.prompt_style)),
                      check=lambda a: check_game_request(a.game, a.n, a.test_n, checks.key_values(a.knob, "--knob")))
    listing = games.add_parser("list", help="registered games and their knobs")
    listing.set_defaults(func=lambda a: [print(f"game/{n}: {get_game(n).knobs}") for n in game_names()])

    maths = sub.add_parser("math", help="math data").add_subparsers(dest="math_command", required=True)
    mk = maths.add_parser("make", help="local problems file -> verl RL parquet")
    mk.add_argument("--input", required=True, help="problems file: .jsonl, .json (an array) or .parquet")
    mk.add_argument("--data-source", required=True, help="data_source of the rows, e.g. aime24, math500")
    mk.add_argument("--out", required=True, help="output parquet file")
    mk.add_argument("--problem-key", default="problem", help="column holding the problem text")
    mk.add_argument("--answer-key", default="answer", help="column holding the gold answer (text or number)")
    mk.add_argument("--split", default="test", help="split recorded in extra_info")
    mk.set_defaults(func=lambda a: print(make_math_data(a.input, a.data_source, a.out, a.problem_key, a.answer_key, a.split), "rows"))
