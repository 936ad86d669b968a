"""Where the final answer is read: thinking, several boxes, final-answer statements, and the hacks they must not open."""

import json
import math
import time

import pytest

from reward_fns import compute_score
from reward_fns.extract import MAX_BOXES, THINK_TAGS, after_thinking, extract_answer
from reward_fns.games import get_game

COUNTDOWN = json.dumps({"numbers": [3, 7, 9, 25], "target": 100, "use_all": True})
RIGHT, WRONG = "25 * (7 - 9 / 3)", "25*3+9+7"  # 100 with every number once; 91


@pytest.mark.parametrize("opening,closing", THINK_TAGS)
def test_answer_is_read_after_the_thinking_in_every_tag_style(opening, closing):
    response = f"{opening} so far 2+3 = \\boxed{{5}} hmm {closing} The answer is \\boxed{{7}}"
    assert compute_score("math", response, "7")["acc"] == 1.0
    assert compute_score("math", response, "5")["acc"] == 0.0


@pytest.mark.parametrize("opening,closing", THINK_TAGS)
def test_unfinished_thinking_gives_no_answer(opening, closing):
    result = compute_score("math", f"{opening}Let me see, 2+3 = \\boxed{{5}} so far and then", "5")
    assert result["score"] == 0.0 and "unfinished thinking" in result["error"]
    # a new block opened after a closed one is unfinished too
    result = compute_score("math", f"{opening}a{closing} \\boxed{{5}} {opening} wait, \\boxed{{6}}", "5")
    assert result["score"] == 0.0 and "unfinished thinking" in result["error"]


def test_thinking_modes():
    opened_by_template = "2+3 = \\boxed{5} so far and then"  # DeepSeek-R1's template opens <think> in the prompt
    assert compute_score("math", opened_by_template, "5")["acc"] == 1.0  # auto: no tag, read whole
    required = compute_score("math", opened_by_template, "5", thinking="required")
    assert required["acc"] == 0.0 and "unfinished thinking" in required["error"]
    assert compute_score("math", "guess \\boxed{4} </think> so \\boxed{5}", "5", thinking="required")["acc"] == 1.0
    literal = "Tags like <think> are markup. \\boxed{5}"  # a model that does not think may write the tag
    assert compute_score("math", literal, "5")["acc"] == 0.0
    assert compute_score("math", literal, "5", thinking="off")["acc"] == 1.0
    # per row (verl's extra_info) overrides the reward_kwargs
    assert compute_score("math", literal, "5", extra_info={"thinking": "off"}, thinking="auto")["acc"] == 1.0
    assert "unknown thinking mode" in compute_score("math", "\\boxed{5}", "5", thinking="maybe")["error"]
    with pytest.raises(ValueError):
        after_thinking("x", "maybe")


def test_game_answers_inside_the_thinking_do_not_count():
    thought = f"<think>try <answer>{RIGHT}</answer> maybe</think>"
    assert compute_score("game/countdown", f"{thought} <answer>{WRONG}</answer>", COUNTDOWN)["acc"] == 0.0
    assert compute_score("game/countdown", f"<think>try <answer>{WRONG}</answer></think><answer>{RIGHT}</answer>", COUNTDOWN)["acc"] == 1.0
    unfinished = compute_score("game/countdown", f"<think>so <answer>{RIGHT}</answer> and", COUNTDOWN)
    assert unfinished["acc"] == 0.0 and "unfinished thinking" in unfinished["error"]
    assert compute_score("game/countdown", f"<think>so <answer>{RIGHT}</answer> and", COUNTDOWN, thinking="off")["acc"] == 1.0
    assert compute_score("game/countdown", thought, COUNTDOWN)["error"] == "no <answer> found"
    assert get_game("countdown").extract_answer(f"<answer>{RIGHT}</answer>") == RIGHT


@pytest.mark.parametrize(
    "text,answer",
    [
        ("\\boxed{(2, 2)} \\quad \\text{and} \\quad \\boxed{(6, 2)}", "(2, 2), (6, 2)"),
        ("\\boxed{k = 45} \\quad \\text{and} \\quad \\boxed{n = 2}", "k = 45, n = 2"),
        ("\\( y_1 = \\boxed{2x} \\) and \\( y_2 = \\boxed{3x} \\)", "2x, 3x"),
        ("\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}", "(3, 3), (1, 1)"),
        ("$\\boxed{1}$, $\\boxed{2}$; $\\boxed{3}$", "1, 2, 3"),
        ("\\boxed{1} \\qquad \\boxed{2}", "1, 2"),
        ("(a) \\boxed{1}, (b) \\boxed{2}", "1, 2"),
        ("\\boxed{1} papers and \\boxed{2} bins", "1, 2"),
        ("\\boxed{1}\\boxed{2}", "1, 2"),
        # not one answer: a sentence end, maths, prose, two displays without a connector
        ("First \\boxed{1}. Then \\boxed{2}", "2"),
        ("\\boxed{1} no no no no no \\boxed{2}", "2"),
        ("\\boxed{1} + \\boxed{2} = \\boxed{3}", "3"),
        ("$$\\boxed{20}$$ \\boxed{143}", "143"),
        ("\\boxed{1}\n\nNext, \\boxed{2}", "2"),
    ],
)
def test_several_boxes(text, answer):
    assert extract_answer(text).answer == answer


SEPARATORS = [", ", " and ", " or ", " \\quad ", " \\quad \\text{or} \\quad ", "$, $", "\\) or \\(", " or maybe ",
              "; ", " \\text{ for part (b) and } ", "", " . Or ", ". Hmm, ", " wait no ", "\n\n"]


@pytest.mark.parametrize("separator", SEPARATORS)
def test_listing_candidates_for_a_single_gold_scores_zero(separator):
    """Three candidates around the gold, any separator: read as a list (0) or as the last one alone (0)."""
    for candidates in (["1", "2", "3"], ["2", "3", "4"], ["0", "2", "5"]):
        response = "So " + separator.join(f"\\boxed{{{c}}}" for c in candidates) + "."
        result = compute_score("math", response, "2")
        assert result["acc"] == 0.0, (response, result)


def test_groups_are_bounded_and_linear():
    many = "\\boxed{1}, " * (MAX_BOXES - 1) + "\\boxed{2}"
    assert extract_answer(many).answer.count(",") == MAX_BOXES - 1
    flood = extract_answer("\\boxed{1}, " * MAX_BOXES + "\\boxed{2}")
    assert flood.answer is None and "boxes" in flood.error
    timings = []
    for n in (20_000, 80_000):  # adversarial: joinable separators and near-joinable gaps, 4x longer
        text = ("\\boxed{1}, " + "x " * 30 + "and ") * n
        best = math.inf
        for _ in range(3):  # the best of three: a busy machine only ever adds time
            start = time.perf_counter()
            extract_answer(text)
            best = min(best, time.perf_counter() - start)
        timings.append(best)
    assert timings[1] < 12 * timings[0] + 0.05  # linear (4x); quadratic would be 16x


@pytest.mark.parametrize(
    "text,answer,source",
    [
        ("so $x = \\boxed{255}$. Final Answer: The final answer is $10,455$. I hope it is correct.", "10,455", "final_statement"),
        ("\\boxed{3}\n**Final answer:** 4", "4", "final_statement"),
        ("Final Answer: The largest $n$ is 34.", "34", "final_statement"),
        ("The final answer is \\((-6, 10)\\). I hope", "(-6, 10)", "final_statement"),
        ("The final answer is 3.5 meters.", "3.5 meters", "final_statement"),
        ("**Final Answer**\n\\boxed{189}", "189", "boxed"),  # the box comes after the statement's heading
        ("The answer is \\boxed{5}. The answer is 6.", "5", "boxed"),  # only a *final* answer statement overrides
        ("\\boxed{5}\n\nFinal answer: see above.", "5", "boxed"),  # prose after a box does not override it
        ("$$x = 3$$", "x = 3", "formula"),
        ("We find $x = 3$ and $y = 4$.", None, "none"),  # prose with formulas is not one formula
    ],
)
def test_final_statements_and_formulas(text, answer, source):
    found = extract_answer(text)
    assert (found.answer, found.source) == (answer, source)


def test_format_reward_counts_a_box_overridden_by_a_statement():
    result = compute_score("math", "\\boxed{3}. Final answer: 4", "4", format_weight=0.2)
    assert result["acc"] == 1.0 and result["format_ok"] == 1.0 and result["score"] == pytest.approx(1.0)
