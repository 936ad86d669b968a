"""Every game: the verifier accepts its solver's answer and rejects corrupted ones, over many seeds."""

import json
import random

import pytest

from reward_fns import compute_score
from reward_fns.games import BUILTIN_GAMES, Game, Verdict, game_names, get_game, register_game, score_game
from reward_fns.games.maze import MOVES

SEEDS = range(40)
# Difficulty settings exercised besides the defaults.
KNOBS = {
    "countdown": [{"n_numbers": 3, "use_all": False}, {"n_numbers": 5, "max_number": 25}],
    "game24": [{}],
    "sudoku": [{"size": 4, "clues": 6}, {"size": 9, "clues": 36}],
    "knights_knaves": [{"n_people": 2, "depth": 1}, {"n_people": 5}],
    "maze": [{"rows": 5, "cols": 7, "loops": 0.0}, {"rows": 11, "cols": 11, "loops": 0.3}],
    "cryptarithm": [{"digits": 2}, {"n_words": 3, "digits": 2}],
}


def corruptions(name: str, puzzle: dict, answer: str, rng: random.Random) -> list[str]:
    """Answers that are wrong for sure (each argued from the puzzle's rules)."""
    out = ["", answer[: len(answer) // 2]]
    if name in ("countdown", "game24"):
        out.append(f"({answer}) + 1")  # value off by one
        out.append(f"({answer}) * 1 + {puzzle['numbers'][0]} - {puzzle['numbers'][0]}")  # numbers reused
    elif name == "sudoku":
        digits = [c for c in answer if c.isdigit()]
        blanks = [i for i, g in enumerate(puzzle["grid"]) if g == "."]
        i = rng.choice(blanks)
        digits[i] = str(int(digits[i]) % puzzle["size"] + 1)  # a different digit: its row now repeats one
        out.append("".join(digits))
        a, b = rng.sample(sorted({g for g in puzzle["grid"] if g != "."}), 2)
        relabelled = answer.translate(str.maketrans({a: b, b: a}))  # still a valid Sudoku, but givens changed
        out.append(relabelled)
    elif name == "knights_knaves":
        person = rng.choice(puzzle["people"])
        role = puzzle["solution"][person]
        other = "knave" if role == "knight" else "knight"
        out.append(answer.replace(f"{person} is a {role}", f"{person} is a {other}"))  # unique solution: wrong
        out.append(answer.replace(f"{person} is a {role}, ", "").replace(f", {person} is a {role}", ""))
    elif name == "maze":
        moves = answer.split()
        out.append(" ".join(moves[:-1]))  # stops one short of G
        out.append(" ".join(moves + ["U", "D"]))  # reaches G by a longer path: not shortest
        rows, cols = len(puzzle["grid"]), len(puzzle["grid"][0])
        out.append(" ".join(["L"] * (cols + 1)) + " " + " ".join(moves))  # leaves the grid
        assert rows
    elif name == "cryptarithm":
        pairs = dict(p.split("=") for p in answer.split(", "))
        a, b = rng.sample(sorted(pairs), 2)
        pairs[a], pairs[b] = pairs[b], pairs[a]  # unique solution: any swap is wrong
        out.append(", ".join(f"{k}={v}" for k, v in pairs.items()))
        out.append(", ".join(f"{k}={v}" for k, v in list(pairs.items())[1:]))  # a letter missing
    return out


CASES = [(name, knobs) for name in BUILTIN_GAMES for knobs in [{}] + KNOBS[name]]


@pytest.mark.parametrize("name,knobs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_solver_accepted_corruptions_rejected(name, knobs):
    game = get_game(name)
    for seed in SEEDS:
        rng = random.Random(seed)
        puzzle = game.generate(rng, **knobs)
        assert json.loads(json.dumps(puzzle)) == puzzle  # stored as JSON ground truth
        answer = game.solve(puzzle)
        ground_truth = json.dumps(puzzle)
        response = f"Let me think.\n<answer>{answer}</answer>"
        result = compute_score(f"game/{name}", response, ground_truth)
        assert result["score"] == 1.0 and result["acc"] == 1.0, (puzzle, answer, result)
        for bad in corruptions(name, puzzle, answer, rng):
            verdict = game.check(puzzle, bad)
            assert not verdict.correct, (puzzle, bad)
            assert compute_score(f"game/{name}", f"<answer>{bad}</answer>", ground_truth)["score"] == 0.0


def test_generators_are_seeded():
    for name in BUILTIN_GAMES:
        game = get_game(name)
        assert game.generate(random.Random(5)) == game.generate(random.Random(5))
        assert game.generate(random.Random(5)) != game.generate(random.Random(6))


def test_prompts_state_the_answer_format():
    for name in BUILTIN_GAMES:
        game = get_game(name)
        assert "<answer>" in game.prompt(game.generate(random.Random(0)))


def test_partial_credit_is_optional():
    game = get_game("sudoku")
    puzzle = game.generate(random.Random(1), size=4, clues=6)
    digits = list(game.solve(puzzle).replace("\n", ""))
    blank = puzzle["grid"].index(".")
    digits[blank] = str(int(digits[blank]) % 4 + 1)
    response, truth = f"<answer>{''.join(digits)}</answer>", json.dumps(puzzle)
    blanks = puzzle["grid"].count(".")
    assert score_game("sudoku", response, truth)["score"] == 0.0
    assert score_game("sudoku", response, truth, partial_credit=True)["score"] == pytest.approx((blanks - 1) / blanks)


def test_maze_partial_credit_for_a_longer_path():
    game = get_game("maze")
    puzzle = game.generate(random.Random(3))
    longer = game.solve(puzzle) + " " + " ".join(next(m + " " + o for m, o in (("U", "D"), ("D", "U"), ("L", "R"), ("R", "L"))
                                                     if _legal(puzzle, game.solve(puzzle) + f" {m} {o}")))
    assert game.check(puzzle, longer) == Verdict(False, 0.5)


def _legal(puzzle, answer):
    r, c = puzzle["start"]
    for move in answer.split():
        r, c = r + MOVES[move][0], c + MOVES[move][1]
        if not (0 <= r < len(puzzle["grid"]) and 0 <= c < len(puzzle["grid"][0])) or puzzle["grid"][r][c] == "#":
            return False
    return True


def test_missing_answer_tag():
    result = compute_score("game/countdown", "(1 + 2) * 3", json.dumps({"numbers": [1, 2, 3], "target": 9, "use_all": True}))
    assert result["score"] == 0.0 and result["format_ok"] == 0.0 and "no <answer>" in result["error"]


def test_register_a_new_game_in_one_class():
    @register_game
    class Parity(Game):
        name = "test_parity"
        knobs = {"max_n": 100}

        def generate(self, rng, **knobs):
            return {"n": rng.randint(0, {**self.knobs, **knobs}["max_n"])}

        def prompt(self, puzzle):
            return f"Is {puzzle['n']} even or odd? <answer>even</answer> or <answer>odd</answer>."

        def solve(self, puzzle):
            return "even" if puzzle["n"] % 2 == 0 else "odd"

        def check(self, puzzle, answer):
            return Verdict(answer.strip().lower() == self.solve(puzzle))

    assert "test_parity" in game_names()
    assert compute_score("game/test_parity", "<answer>odd</answer>", '{"n": 7}')["score"] == 1.0
    assert compute_score("game/test_parity", "<answer>even</answer>", '{"n": 7}')["score"] == 0.0
    with pytest.raises(ValueError, match="already registered"):
        register_game(type("Other", (Parity,), {}))


def test_third_party_game_through_the_entry_point(tmp_path, monkeypatch):
    """A package that declares `[pear_verl.games]` in its metadata is loaded without touching this repo."""
    import reward_fns.games as games

    (tmp_path / "my_parity_game.py").write_text(
        "from reward_fns.games import Game, Verdict, register_game\n"
        "@register_game\n"
        "class Plugin(Game):\n"
        "    name = 'plugin_parity'\n"
        "    def generate(self, rng, **k): return {'n': rng.randint(0, 9)}\n"
        "    def prompt(self, p): return 'even or odd? <answer></answer>'\n"
        "    def solve(self, p): return 'even' if p['n'] % 2 == 0 else 'odd'\n"
        "    def check(self, p, a): return Verdict(a.strip() == self.solve(p))\n"
    )
    dist = tmp_path / "my_parity_game-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-parity-game\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[pear_verl.games]\nplugin_parity = my_parity_game\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    games._load_all.cache_clear()
    try:
        assert "plugin_parity" in game_names()
        assert compute_score("game/plugin_parity", "<answer>odd</answer>", '{"n": 3}')["score"] == 1.0
    finally:
        games._load_all.cache_clear()
