"""RL data preparation: verl's row schema, seeded and disjoint splits, located errors; and the reward
function loaded through verl's own loader."""

import json

import pandas as pd
import pytest
from omegaconf import OmegaConf

from pear_verl.cli import main as cli
from pear_verl.common.checks import key_values
from pear_verl.evaluation.rl_data import make_game_data, make_math_data


def test_game_data_rows_fit_verl_and_score_with_the_solver(tmp_path):
    counts = make_game_data("countdown", 60, 10, 0, {"n_numbers": 3}, tmp_path, sft=True)
    assert counts == {"test": 10, "train": 60}
    train, test = (pd.read_parquet(tmp_path / f"{s}.parquet") for s in ("train", "test"))
    row = train.iloc[0]
    assert row["data_source"] == "game/countdown" and row["ability"] == "reasoning"
    assert list(row["prompt"][0]) == ["role", "content"] and row["prompt"][0]["role"] == "user"
    assert row["reward_model"]["style"] == "rule" and json.loads(row["reward_model"]["ground_truth"])["target"]
    truths = lambda f: {r["ground_truth"] for r in f["reward_model"]}  # noqa: E731
    assert len(truths(train)) == 60 and not truths(train) & truths(test)
    from reward_fns import compute_score

    sft = pd.read_parquet(tmp_path / "sft_train.parquet")
    for messages, reward_model in zip(sft["messages"], train["reward_model"]):
        assert compute_score("game/countdown", messages[1]["content"], reward_model["ground_truth"])["score"] == 1.0


def test_same_seed_same_data(tmp_path):
    make_game_data("maze", 5, 2, 7, {}, tmp_path / "a")
    make_game_data("maze", 5, 2, 7, {}, tmp_path / "b")
    assert pd.read_parquet(tmp_path / "a/train.parquet").equals(pd.read_parquet(tmp_path / "b/train.parquet"))


def test_knobs_are_checked():
    assert key_values(["n_numbers=5", "use_all=false", "name=x"], "--knob") == {"n_numbers": 5, "use_all": False, "name": "x"}
    with pytest.raises(ValueError, match="no knob"):
        make_game_data("countdown", 1, 1, 0, {"n_number": 5}, "/tmp/unused")


def test_too_few_distinct_puzzles_fail_instead_of_looping(tmp_path, monkeypatch):
    monkeypatch.setattr("pear_verl.evaluation.rl_data.MAX_DUPLICATE_DRAWS", 200)
    # Two numbers in 1..2 admit only a handful of distinct puzzles.
    with pytest.raises(ValueError, match="found only .* distinct puzzles"):
        make_game_data("countdown", 50, 5, 0, {"n_numbers": 2, "max_number": 2, "target_min": 1}, tmp_path)


def test_math_data(tmp_path):
    src = tmp_path / "aime.jsonl"
    src.write_text('{"problem": "What is 1+1?", "answer": "2"}\n{"problem": "Half of 1?", "answer": "\\\\frac12"}\n')
    assert make_math_data(str(src), "aime24", str(tmp_path / "out.parquet"), "problem", "answer", "test") == 2
    frame = pd.read_parquet(tmp_path / "out.parquet")
    assert frame.iloc[1]["reward_model"]["ground_truth"] == "\\frac12"
    assert "\\boxed{}" in frame.iloc[0]["prompt"][0]["content"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"problem": "ok", "answer": "1"}\n{"problem": "", "answer": "2"}\n')
    with pytest.raises(ValueError, match="bad.jsonl: row 1"):
        make_math_data(str(bad), "x", str(tmp_path / "o.parquet"), "problem", "answer", "test")
    with pytest.raises(ValueError, match="missing column 'question'"):
        make_math_data(str(src), "x", str(tmp_path / "o.parquet"), "question", "answer", "test")


def test_cli_reports_errors_without_traceback(capsys):
    with pytest.raises(SystemExit, match="unknown game"):
        cli(["games", "make", "--game", "chess", "--n", "1", "--out", "/tmp/unused"])


def test_verl_loads_compute_score_with_reward_kwargs():
    """verl's own loader (`reward.custom_reward_function.*`, with reward_kwargs) finds and calls it."""
    from verl.trainer.ppo.reward import get_custom_reward_fn

    config = OmegaConf.create(
        {"reward": {"custom_reward_function": {"path": "pkg://reward_fns", "name": "compute_score", "reward_kwargs": {"format_weight": 0.5}}}}
    )
    fn = get_custom_reward_fn(config)
    result = fn(data_source="math", solution_str="Answer: 4", ground_truth="4", extra_info={"index": 0})
    assert result["acc"] == 1.0 and result["score"] == 0.5  # right, but not boxed: format reward withheld


@pytest.mark.parametrize(
    "answer,problem",
    [
        ("null", "empty (null, missing or NaN)"),  # next to a numeric answer this became the gold "nan"
        ("NaN", "empty (null, missing or NaN)"),
        ('"nan"', "'nan' is not an answer"),  # \boxed{nan} would score 1
        ('"  "', "is not an answer"),
        ("[1, 2]", "a text or a number is expected, got list"),
        ('{"x": 1}', "a text or a number is expected, got dict"),
        ("true", "a text or a number is expected, got bool"),
    ],
)
def test_math_gold_answers_that_are_no_answer_are_refused_naming_the_row(tmp_path, answer, problem):
    src = tmp_path / "in.jsonl"
    src.write_text(f'{{"problem": "1+4?", "answer": 5}}\n{{"problem": "2+2?", "answer": {answer}}}\n')
    with pytest.raises(ValueError) as err:
        make_math_data(str(src), "x", str(tmp_path / "o.parquet"), "problem", "answer", "test")
    assert str(err.value).startswith(f"{src}: row 1: field 'answer': ") and problem in str(err.value)
    assert not (tmp_path / "o.parquet").exists()


def test_math_problem_of_the_wrong_type_names_the_field(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"problem": "1+4?", "answer": 5}\n{"problem": 7, "answer": 2}\n')
    with pytest.raises(ValueError, match=r"in.jsonl: row 1: field 'problem': a non-empty text is expected, got 7"):
        make_math_data(str(src), "x", str(tmp_path / "o.parquet"), "problem", "answer", "test")


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_numeric_gold_answers_keep_their_text(tmp_path, suffix):
    rows = [{"problem": "a?", "answer": 5}, {"problem": "b?", "answer": 2.5}]  # pandas' JSON reader made the 5 "5.0"
    src = tmp_path / f"in.{suffix}"
    if suffix == "jsonl":
        src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        pd.DataFrame({"problem": ["a?", "b?"], "answer": [5, 12]}).to_parquet(src)
        rows = rows[:1] + [{"answer": 12}]
    make_math_data(str(src), "x", str(tmp_path / "o.parquet"), "problem", "answer", "test")
    golds = [r["ground_truth"] for r in pd.read_parquet(tmp_path / "o.parquet")["reward_model"]]
    assert golds == [str(r["answer"]) for r in rows]


def test_unreachable_targets_end_after_bounded_draws(tmp_path, monkeypatch):
    # 5..8 is within the proven bound for two numbers up to 2 (|target| <= 8) but nothing reaches it.
    from reward_fns.games.countdown import Countdown

    monkeypatch.setattr(Countdown, "max_draws", 500)
    with pytest.raises(ValueError, match=r"no puzzle met knobs .*'target_min': 5.* in 500 draws"):
        make_game_data("countdown", 2, 1, 0, {"n_numbers": 2, "max_number": 2, "target_min": 5, "target_max": 8}, tmp_path)
