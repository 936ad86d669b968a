"""reasoning-gym tasks as games (reward_fns.games.rg): every installed task, through compute_score.

The reference is reasoning-gym itself: its gold answers must score 1 and other puzzles' gold answers 0,
for every registered task; every task reasoning-gym has is either registered or listed in
rg_fixes.EXCLUDED with a reason that is checked here. Holes closed by rg_fixes are shown on the raw
reasoning-gym scorer (the hole is real) and through compute_score (it is closed).
Runs in ~1 minute on 2 cores; skipped when reasoning-gym is not installed (`pip install -e .[reasoning-gym]`).
"""

import json
import random
import time

import pytest

rg_factory = pytest.importorskip("reasoning_gym.factory")

from reward_fns import compute_score  # noqa: E402
from reward_fns.games import (  # noqa: E402
    get_game,
    register_game,
    safe_parse,  # noqa: E402
)
from reward_fns.games.rg import register_all, task_names  # noqa: E402
from reward_fns.games.rg_fixes import EXCLUDED, FULL_CREDIT_GUARDS, REPLACED  # noqa: E402

REGISTERED = register_all()
TASKS = [name.removeprefix("rg/") for name in REGISTERED]
N_PUZZLES = 3


def reward(task, answer, puzzle, **kwargs):
    return compute_score(f"game/rg/{task}", f"Reasoning... <answer>{answer}</answer>", json.dumps(puzzle), **kwargs)


def puzzles(task, n=N_PUZZLES):
    game = get_game(f"rg/{task}")
    return [game.generate(random.Random(f"{task}-{i}")) for i in range(n)]


def test_every_task_is_registered_or_excluded():
    installed = set(task_names())
    assert set(EXCLUDED) <= installed, "EXCLUDED names a task reasoning-gym no longer has"
    assert set(TASKS) | set(EXCLUDED) == installed
    assert not set(TASKS) & set(EXCLUDED)
    assert len(TASKS) >= 90


@pytest.mark.parametrize("task", sorted(EXCLUDED))
def test_exclusion_reasons_hold(task):
    if task == "composite":
        with pytest.raises(Exception):
            rg_factory.create_dataset(task, seed=0, size=3)
        return
    assert "no gold answer" in EXCLUDED[task]
    dataset = rg_factory.create_dataset(task, seed=0, size=3)
    assert all(dataset[i]["answer"] is None for i in range(3))


@pytest.mark.parametrize("task", TASKS)
def test_gold_scores_one_and_other_puzzles_gold_scores_zero(task):
    items = puzzles(task)
    for puzzle in items:
        json.dumps(puzzle)  # the ground truth is plain JSON
        gold = puzzle["entry"]["answer"]
        result = reward(task, gold, puzzle)
        assert (result["acc"], result["score"]) == (1.0, 1.0), (task, gold, result)
    for i, puzzle in enumerate(items):
        gold = puzzle["entry"]["answer"].strip().lower()
        for other in items[:i] + items[i + 1 :]:
            wrong = other["entry"]["answer"]
            if wrong.strip().lower() == gold:
                continue  # same answer: no corruption (e.g. yes/no tasks)
            if task == "sokoban":
                # any move sequence that solves the level is right (bumps into walls are no-ops), so another
                # level's solution may solve this one too; the corruption is half the gold moves instead
                wrong = puzzle["entry"]["answer"][: len(puzzle["entry"]["answer"]) // 2]
            result = reward(task, wrong, puzzle)
            assert result["acc"] == 0.0 and result["score"] == 0.0, (task, wrong, gold, result)
            if task == "sokoban":
                continue
            right = puzzle["entry"]["answer"]
            for hedge in (f"{right} {wrong}", f"{wrong} {right}", f"{right}\n{wrong}", f"{wrong}\n{right}", f"{right} or {wrong}"):
                assert reward(task, hedge, puzzle)["acc"] == 0.0, (task, hedge)  # hedging never gets full credit


def test_result_keys_and_bad_ground_truth():
    keys = set(compute_score("game/countdown", "<answer>1</answer>", "{}"))
    puzzle = puzzles("basic_arithmetic", 1)[0]
    assert set(reward("basic_arithmetic", "1", puzzle)) == keys
    for truth in ("not json", "{}", json.dumps({**puzzle, "task": "puzzle24"}), json.dumps({**puzzle, "config": {"nope": 1}})):
        result = compute_score("game/rg/basic_arithmetic", f"<answer>{puzzle['entry']['answer']}</answer>", truth)
        assert set(result) == keys and result["acc"] == 0.0


def test_unknown_knob_is_named_before_anything_runs():
    with pytest.raises(ValueError, match="no_such_knob"):
        get_game("rg/puzzle24").generate(random.Random(0), no_such_knob=3)


def test_knobs_reach_the_generator():
    game = get_game("rg/puzzle24")
    puzzle = game.generate(random.Random(0), min_value=5, max_value=6)
    assert set(puzzle["entry"]["metadata"]["numbers"]) <= {5, 6}


def test_names_may_be_namespaced_but_stay_lowercase():
    for bad in ("rg/Puzzle", "rg/", "a/b/c", "Rg/x"):
        cls = type("Bad", (get_game("countdown").__class__,), {"name": bad})
        with pytest.raises(ValueError):
            register_game(cls)


def test_builtin_scoring_does_not_import_reasoning_gym():
    import subprocess
    import sys

    code = ("import sys; from reward_fns import compute_score; "
            "compute_score('game/countdown', '<answer>1+2</answer>', '{\"numbers\": [1, 2], \"target\": 3, \"use_all\": true}'); "
            "print('reasoning_gym' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- holes in reasoning-gym's scorers, closed by the adapter ------------------------------------------

def raw_score(task, answer, puzzle):
    """reasoning-gym's own scorer, as it ships (in this process, on a trusted answer)."""
    dataset = rg_factory.create_dataset(task, seed=0, size=1, **puzzle["config"])
    return dataset.score_answer(answer, puzzle["entry"])


def test_puzzle24_needs_the_puzzles_numbers():
    from reward_fns.games.countdown import Countdown

    puzzle = next(p for p in puzzles("puzzle24", 10) if sorted(p["entry"]["metadata"]["numbers"]) != [1, 2, 3, 4])
    assert raw_score("puzzle24", "1*2*3*4", puzzle) == 1.0  # the hole
    reference = Countdown().check({"numbers": puzzle["entry"]["metadata"]["numbers"], "target": 24, "use_all": True}, "1*2*3*4")
    assert not reference.correct
    assert reward("puzzle24", "1*2*3*4", puzzle)["acc"] == 0.0  # closed
    assert reward("puzzle24", puzzle["entry"]["answer"], puzzle)["acc"] == 1.0
    assert "puzzle24" in REPLACED


def test_puzzle24_keeps_to_the_operators_the_question_allows():
    game = get_game("rg/puzzle24")
    for i in range(40):  # a puzzle with only + and - whose numbers also make 24 with a product
        puzzle = game.generate(random.Random(f"ops-{i}"), operators=["+", "-"])
        a, b, c, d = puzzle["entry"]["metadata"]["numbers"]
        cheat = next((f"{x}*{y}+{z}-{w}" for x, y, z, w in [(a, b, c, d), (a, c, b, d), (a, d, b, c), (b, c, a, d), (b, d, a, c), (c, d, a, b)]
                      if x * y + z - w == 24), None)
        if cheat is not None:
            break
    assert cheat is not None and "+, -." in puzzle["entry"]["question"]
    assert raw_score("puzzle24", cheat, puzzle) == 1.0  # the hole: the operators knob is not checked
    assert reward("puzzle24", cheat, puzzle)["acc"] == 0.0  # closed
    assert reward("puzzle24", puzzle["entry"]["answer"], puzzle)["acc"] == 1.0


def test_game_of_life_halting_any_text_passed():
    puzzle = puzzles("game_of_life_halting", 1)[0]
    wrong = "False" if puzzle["entry"]["answer"] == "True" else "True"
    assert raw_score("game_of_life_halting", wrong, puzzle) == 1.0  # the hole: bool("False") is True
    assert reward("game_of_life_halting", wrong, puzzle)["acc"] == 0.0


def test_coin_flip_prefix_passed():
    puzzle = next(p for p in puzzles("coin_flip", 10) if p["entry"]["answer"].startswith("0."))
    assert raw_score("coin_flip", "0", puzzle) == 1.0  # the hole: a prefix of the gold's digits
    assert reward("coin_flip", "0", puzzle)["acc"] == 0.0


@pytest.mark.parametrize("task", ["gsm_symbolic", "fraction_simplification", "time_intervals", "spell_backward", "letter_jumble"])
def test_hedged_answers_passed(task):
    items = puzzles(task, 12)
    holes = 0
    for puzzle, other in zip(items, items[1:] + items[:1]):
        hedge = f"{puzzle['entry']['answer']} {other['entry']['answer']}"
        if other["entry"]["answer"] != puzzle["entry"]["answer"] and raw_score(task, hedge, puzzle) >= 1.0:
            holes += 1  # the hole: the gold followed by another answer gets full credit
            assert reward(task, hedge, puzzle)["acc"] == 0.0
    assert holes > 0
    assert task in FULL_CREDIT_GUARDS


def test_knights_knaves_hedged_partial_credit():
    puzzle = puzzles("knights_knaves", 1)[0]
    name = puzzle["entry"]["metadata"]["names"][0]
    terms = puzzle["entry"]["metadata"]["knight_knave_terms"]
    others = [f"{n} is {terms['a_knight']}" for n in puzzle["entry"]["metadata"]["names"][2:]]
    hedge = ", and ".join([f"{name} is {terms['a_knight']}", f"{name} is {terms['a_knave']}", *others])
    assert raw_score("knights_knaves", hedge, puzzle) > 0.3  # the hole: both roles for one person
    assert reward("knights_knaves", hedge, puzzle, partial_credit=True)["score"] == 0.0
    # role names rotate per puzzle; the generic knight/knave words are not the puzzle's and score 0
    if terms["knight"] != "knight":
        generic = puzzle["entry"]["answer"].replace(terms["knight"], "knight").replace(terms["knave"], "knave")
        assert reward("knights_knaves", generic, puzzle)["acc"] == 0.0


def test_partial_credit_only_behind_the_knob():
    puzzle = puzzles("sudoku", 1)[0]
    rows = puzzle["entry"]["answer"].split("\n")
    almost = "\n".join(rows[:-1] + [rows[-1][::-1]])
    off, on = reward("sudoku", almost, puzzle), reward("sudoku", almost, puzzle, partial_credit=True)
    assert off["score"] == 0.0 and off["acc"] == 0.0
    assert 0.0 < on["score"] < 1.0 and on["acc"] == 0.0


def test_default_scorer_gives_no_partial_credit_for_hedging():
    puzzle = puzzles("maze", 1)[0]  # maze uses reasoning-gym's default substring scorer
    hedge = f"{puzzle['entry']['answer']} 999"
    assert raw_score("maze", hedge, puzzle) > 0.0
    assert reward("maze", hedge, puzzle, partial_credit=True)["score"] == 0.0


def test_a_slow_scorer_is_cut_off():
    puzzle = puzzles("coin_flip", 1)[0]
    start = time.monotonic()
    result = reward("coin_flip", "1e999999999", puzzle)  # Fraction() builds 10**999999999
    assert result["acc"] == 0.0 and time.monotonic() - start < 5.0


# ---- the hostile-answer suite, against every task ------------------------------------------------------

def hostile_answers():
    """The answer texts of test_hostile.HOSTILE (games' <answer> bodies, math's boxed ones, whole responses)."""
    import re

    from tests.unit.reward_fns.test_hostile import HOSTILE

    out = []
    for _, response, _ in HOSTILE:
        if not isinstance(response, str):
            continue
        response = response if "<answer>" in response else f"<answer>{response}</answer>"
        body = re.search(r"<answer>(.*?)</answer>", response, re.S) if len(response) < 10_000 else None  # (quadratic)
        if body and re.fullmatch(r"[\w.\- ]{0,12}", body.group(1)):
            continue  # "1", "l2": plain short answers, which some puzzle may rightly have
        if response not in out:
            out.append(response)
    extra = ["1e999999999", "[" * 1900, "[[" + "1," * 900 + "1]]", "Integral(x, x)", "__import__('os').getpid()",
             "sympy.sympify('1')", "lambda: 0", "open('/tmp/pear_verl_hostile_sentinel', 'w')"]
    return out + [f"<answer>{a}</answer>" for a in extra]


def test_hostile_answers_against_every_task():
    from tests.unit.reward_fns.test_hostile import BOUND_S, SENTINEL

    SENTINEL.unlink(missing_ok=True)
    answers = hostile_answers()
    assert len(answers) >= 50
    slow = []
    for task in TASKS:
        truth = json.dumps(puzzles(task, 1)[0])
        for response in answers:
            start = time.monotonic()
            result = compute_score(f"game/rg/{task}", response, truth)
            elapsed = time.monotonic() - start
            assert result["score"] == 0.0 and result["acc"] == 0.0, (task, response[:80], result)
            if elapsed > BOUND_S:
                slow.append((task, response[:40], elapsed))
    assert not slow, slow
    assert not SENTINEL.exists(), "a hostile answer was executed"


def test_the_guard_refuses_evaluation_in_the_worker():
    """An eval that no audit found still cannot run: the worker's audit hook refuses it while scoring."""
    from reward_fns.games.rg import pool

    puzzle = puzzles("n_queens", 1)[0]
    outcome = pool().call("n_queens", puzzle["config"], puzzle["entry"], "[[__import__('os').getpid()]]", timeout_s=5)
    assert outcome.ok and outcome.value == (False, 0.0)


def test_games_make_writes_rl_and_sft_parquet(tmp_path):
    import pandas as pd

    from pear_verl.evaluation.rl_data import make_game_data

    counts = make_game_data("rg/puzzle24", 6, 2, 0, {"min_value": 2}, tmp_path, sft=True)
    assert counts == {"test": 2, "train": 6}
    train, sft = pd.read_parquet(tmp_path / "train.parquet"), pd.read_parquet(tmp_path / "sft_train.parquet")
    assert set(train["data_source"]) == {"game/rg/puzzle24"}
    for row, conversation in zip(train.itertuples(), sft["messages"]):
        truth = row.reward_model["ground_truth"]
        assert json.loads(truth)["config"]["min_value"] == 2
        answer = conversation[1]["content"]
        assert compute_score(row.data_source, answer, truth)["acc"] == 1.0
    with pytest.raises(ValueError, match="nope"):
        make_game_data("rg/puzzle24", 1, 1, 0, {"nope": 1}, tmp_path / "x")


def test_every_text_evaluating_site_in_reasoning_gym_is_audited():
    """eval/exec/parse_expr/sympify/... in reasoning-gym's source: exactly the files of rg_fixes.EVAL_SITES
    (an upgrade that adds or moves one fails here; sympify reached implicitly is what the audit hook is for)."""
    import re
    from pathlib import Path

    import reasoning_gym

    from reward_fns.games.rg_fixes import EVAL_SITES

    root = Path(reasoning_gym.__file__).parent
    pattern = re.compile(r"(?<![.\w])(eval|exec|compile|sympify|parse_expr|parse_latex|__import__)\s*\(|"
                         r"\.(sympify|parse_expr|parse_latex)\(|lambdify|pickle\.loads")
    found = set()
    for path in root.rglob("*.py"):
        for line in path.read_text(errors="replace").splitlines():
            code = line.split("#")[0]
            if pattern.search(code) and not re.match(r"\s*def ", code):
                found.add(str(path.relative_to(root)))
    assert found == set(EVAL_SITES)


def test_model_text_is_parsed_not_evaluated():
    """The parsers the worker swaps in for eval / parse_expr (reward_fns.games.safe_parse)."""
    for text in ("__import__('os').getpid()", "x.__class__", "(lambda: 1)()", "[i for i in range(9)]", "x**(10**9)"):
        with pytest.raises(ValueError):
            safe_parse.safe_parse_expr(text)
        with pytest.raises(ValueError):
            safe_parse.int_eval(text)
    assert str(safe_parse.safe_parse_expr("-98*x**3/3 - 70*x**2 + C")) == str(-98 * __import__("sympy").Symbol("x") ** 3 / 3
                                                                            - 70 * __import__("sympy").Symbol("x") ** 2
                                                                            + __import__("sympy").Symbol("C"))
    assert safe_parse.int_eval("((0xc3ce << 0x3) + (0x1907 - 0x7de4))") == ((0xC3CE << 3) + (0x1907 - 0x7DE4))


@pytest.mark.parametrize("task", ["simple_integration", "intermediate_integration"])
def test_integration_answers_with_other_symbols_passed(task):
    puzzle = puzzles(task, 1)[0]
    padded = f"{puzzle['entry']['answer']} + 5*y**2"  # y is a "constant" for d/dx
    assert raw_score(task, padded, puzzle) == 1.0  # the hole
    assert reward(task, padded, puzzle)["acc"] == 0.0
    assert reward(task, puzzle["entry"]["answer"], puzzle)["acc"] == 1.0


def test_a_knob_value_reasoning_gym_refuses_is_reported_with_the_game():
    with pytest.raises(ValueError, match="rg/puzzle24.*min_value"):
        get_game("rg/puzzle24").generate(random.Random(0), min_value=9, max_value=2)


def test_games_make_splits_are_disjoint_on_the_question(tmp_path):
    """coin_flip draws the same question at many indices: train and test must not share one."""
    import pandas as pd

    from pear_verl.evaluation.rl_data import make_game_data

    make_game_data("rg/coin_flip", 150, 50, 0, {}, tmp_path)
    questions = {split: [json.loads(t)["entry"]["question"] for t in pd.read_parquet(tmp_path / f"{split}.parquet")["reward_model"].map(lambda r: r["ground_truth"])] for split in ("train", "test")}
    assert len(set(questions["train"])) == 150 and len(set(questions["test"])) == 50
    assert not set(questions["train"]) & set(questions["test"])
