"""Canonical puzzle forms and canonically disjoint splits, checked against brute-force references that
do not use `Game.canonical`: two puzzles are "the same" when an explicit loop over reorderings,
renamings or board symmetries maps one onto the other."""

import itertools
import json
import random

import numpy as np
import pandas as pd
import pytest

from pear_verl.evaluation.rl_data import make_game_data
from reward_fns.games import BUILTIN_GAMES, get_game


def _pairs(items):
    return itertools.combinations(range(len(items)), 2)


def test_countdown_canonical_is_the_multiset_of_numbers_and_the_target():
    game, rng = get_game("countdown"), random.Random(0)
    puzzles = [game.generate(rng, n_numbers=3, max_number=4, target_min=1, target_max=12) for _ in range(300)]
    for i, j in _pairs(puzzles):
        a, b = puzzles[i], puzzles[j]
        same = a["target"] == b["target"] and any(list(p) == b["numbers"] for p in itertools.permutations(a["numbers"]))
        assert (game.canonical(a) == game.canonical(b)) == same, (a, b)
    a = {"numbers": [3, 6, 2], "target": 1, "use_all": True}
    assert game.canonical(a) == game.canonical({**a, "numbers": [2, 3, 6]}) != game.canonical({**a, "target": 2})


def test_sudoku_canonical_is_equality_up_to_renaming_digits():
    game, rng = get_game("sudoku"), random.Random(1)
    puzzles = [game.generate(rng, size=4, clues=12) for _ in range(40)]
    rename = dict(zip("1234", "3142"))
    puzzles.append({**puzzles[0], "grid": "".join(rename.get(ch, ch) for ch in puzzles[0]["grid"])})
    for i, j in _pairs(puzzles):
        a, b = puzzles[i]["grid"], puzzles[j]["grid"]
        same = any(
            "".join(dict(zip("1234", perm)).get(ch, ch) for ch in a) == b for perm in itertools.permutations("1234")
        )
        assert (game.canonical(puzzles[i]) == game.canonical(puzzles[j])) == same
    assert game.canonical(puzzles[0]) == game.canonical(puzzles[-1])


def _maze_views(puzzle):
    """The 8 (square) board symmetries with numpy, and both directions: a reference for Maze.canonical."""
    board = np.array([list(line) for line in puzzle["grid"]])
    h, w = board.shape
    marks = np.zeros(board.shape, int)
    marks[tuple(puzzle["start"])], marks[tuple(puzzle["goal"])] = 1, 1
    views = set()
    for k in range(4):
        for flip in (False, True):
            b, m = np.rot90(board, k), np.rot90(marks, k)
            if flip:
                b, m = np.fliplr(b), np.fliplr(m)
            views.add(("".join(b.ravel()), b.shape, "".join(map(str, m.ravel()))))
    return views


def test_maze_canonical_is_equality_up_to_board_symmetry():
    game, rng = get_game("maze"), random.Random(2)
    puzzles = [game.generate(rng, rows=5, cols=5, loops=0.0) for _ in range(150)]
    for i, j in _pairs(puzzles):
        same = bool(_maze_views(puzzles[i]) & _maze_views(puzzles[j]))
        assert (game.canonical(puzzles[i]) == game.canonical(puzzles[j])) == same
    p = puzzles[0]
    reversed_walk = {**p, "start": p["goal"], "goal": p["start"]}
    mirrored = {**p, "grid": [line[::-1] for line in p["grid"]], "start": [p["start"][0], 4 - p["start"][1]],
                "goal": [p["goal"][0], 4 - p["goal"][1]]}
    assert game.canonical(p) == game.canonical(reversed_walk) == game.canonical(mirrored)


def _kk_disguise(puzzle, rng):
    """Rename everyone, shuffle the statements and swap operands of and/or/same."""
    from reward_fns.games.knights_knaves import NAMES

    rename = dict(zip(puzzle["people"], rng.sample(NAMES, len(puzzle["people"]))))

    def swap(f):
        if f[0] == "is":
            return ["is", rename[f[1]], f[2]]
        if f[0] == "same":
            return ["same", rename[f[2]], rename[f[1]]]
        if f[0] == "not":
            return ["not", swap(f[1])]
        return [f[0], swap(f[2]), swap(f[1])]

    statements = [[rename[s], swap(f)] for s, f in puzzle["statements"]]
    rng.shuffle(statements)
    return {"people": [rename[p] for p in puzzle["people"]], "statements": statements,
            "solution": {rename[p]: r for p, r in puzzle["solution"].items()}}


def test_knights_knaves_canonical_ignores_names_order_and_operand_order():
    game, rng = get_game("knights_knaves"), random.Random(3)
    puzzles = [game.generate(rng, n_people=3, depth=2) for _ in range(60)]
    for p in puzzles:
        assert game.canonical(_kk_disguise(p, rng)) == game.canonical(p)
    for i, j in _pairs(puzzles):  # an invariant no renaming changes: how many knights the unique solution has
        if sorted(puzzles[i]["solution"].values()) != sorted(puzzles[j]["solution"].values()):
            assert game.canonical(puzzles[i]) != game.canonical(puzzles[j])


def test_cryptarithm_canonical_ignores_letter_names_and_addend_order():
    game, rng = get_game("cryptarithm"), random.Random(4)
    for _ in range(20):
        p = game.generate(rng)
        letters = sorted(set("".join(p["words"]) + p["result"]))
        rename = dict(zip(letters, rng.sample("ABCDEFGHIJKLMNOPQRSTUVWXYZ", len(letters))))
        disguised = {"words": ["".join(rename[c] for c in w) for w in reversed(p["words"])],
                     "result": "".join(rename[c] for c in p["result"]),
                     "hints": {rename[c]: d for c, d in p["hints"].items()},
                     "solution": {rename[c]: d for c, d in p["solution"].items()}}
        assert game.canonical(disguised) == game.canonical(p)
        assert game.canonical({**p, "hints": {}}) != game.canonical(p) or not p["hints"]


SMALL = {"countdown": {"n_numbers": 3, "max_number": 10, "target_min": 1, "target_max": 100},
         "game24": {}, "sudoku": {"size": 4, "clues": 8}, "knights_knaves": {"n_people": 2, "depth": 2},
         "maze": {"rows": 5, "cols": 5}, "cryptarithm": {}}


@pytest.mark.parametrize("name", BUILTIN_GAMES)
def test_splits_are_disjoint_on_canonical_form(name, tmp_path):
    game = get_game(name)
    make_game_data(name, 120, 30, 0, SMALL[name], tmp_path, prompt_style="compact")
    keys = {}
    for split in ("train", "test"):
        frame = pd.read_parquet(tmp_path / f"{split}.parquet")
        keys[split] = [game.canonical(json.loads(r["ground_truth"])) for r in frame["reward_model"]]
        assert len(set(keys[split])) == len(keys[split])  # no canonical duplicates inside a split
        assert frame["prompt"].iloc[0][0]["content"] == game.compact_prompt(json.loads(frame["reward_model"].iloc[0]["ground_truth"]))
    assert not set(keys["train"]) & set(keys["test"])


def test_compact_countdown_prompt_and_unknown_style():
    game = get_game("countdown")
    assert game.compact_prompt({"numbers": [3, 6, 2], "target": 1, "use_all": True}) == "3 6 2 -> 1"
    with pytest.raises(ValueError, match="prompt style"):
        game.styled_prompt({"numbers": [1], "target": 1, "use_all": True}, "tiny")
