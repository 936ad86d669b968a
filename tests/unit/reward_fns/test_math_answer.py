"""The math checker on a hand-labelled corpus, plus extraction, format reward and input handling."""

import threading
import time

import pytest
import sympy

from reward_fns import compute_score
from reward_fns.math_answer import extract_answer, gold_answer
from reward_fns.math_equivalence import _numbers_agree
from tests.unit.reward_fns.math_corpus import CASES


def test_corpus_is_large_and_covers_every_category():
    categories = {c for c, *_ in CASES}
    assert len(CASES) >= 200
    assert {"latex", "fractions", "decimals", "percent", "intervals", "sets", "units", "equations", "traps"} <= categories
    assert sum(ok for *_, ok in CASES) > 60 and sum(not ok for *_, ok in CASES) > 60  # both labels well represented


@pytest.mark.parametrize("category,gold,response,expected", CASES, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(CASES)])
def test_corpus(category, gold, response, expected):
    result = compute_score(data_source="math", solution_str=response, ground_truth=gold)
    assert result["acc"] == float(expected), (gold, response, result)
    assert result["score"] == result["acc"]  # format reward is off by default


@pytest.mark.parametrize(
    "text,answer,source",
    [
        ("x \\boxed{1} y \\boxed{\\frac{a}{b}} z", "\\frac{a}{b}", "boxed"),
        ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}", "boxed"),
        ("The final answer is $42$.", "42", "final_statement"),
        ("**Answer:** 2**3", "2**3", "answer_line"),
        ("no answer here", None, "none"),
        ("\\boxed{unbalanced", None, "none"),
        # Several boxes: those of the final answer are joined; a box after other text is a new claim.
        ("The roots are \\boxed{1} and \\boxed{2}.", "1, 2", "boxed"),
        ("$x = \\boxed{-1}$, $x = \\boxed{3}$", "-1, 3", "boxed"),
        ("We get \\boxed{1}. Checking the other case, we get \\boxed{2}.", "2", "boxed"),
        ("\\boxed{1} \\boxed{2", "1", "boxed"),  # an unbalanced last box falls back to the one before
        ("Total: \\boxed{\\$1,250}", "1,250", "boxed"),  # an escaped dollar is the currency, not math mode
    ],
)
def test_extraction(text, answer, source):
    found = extract_answer(text)
    assert (found.answer, found.source) == (answer, source)


def test_last_number_fallback_is_opt_in():
    assert extract_answer("so we get 12 apples").answer is None
    assert extract_answer("so we get 1,234 apples", ("answer_line", "last_number")).answer == "1234"
    result = compute_score("gsm8k", "so we get 12 apples", "12", answer_fallbacks=["last_number"])
    assert result["acc"] == 1.0 and result["format_ok"] == 0.0


def test_boxed_ground_truth_is_unwrapped():
    assert gold_answer("\\boxed{\\frac{1}{2}}") == "\\frac{1}{2}"
    assert compute_score("math", "\\boxed{0.5}", "The answer is \\boxed{\\frac12}")["acc"] == 1.0
    assert compute_score("math", "\\boxed{12}", 12)["acc"] == 1.0  # numeric ground truth


def test_format_weight():
    right_boxed = compute_score("math", "\\boxed{7}", "7", format_weight=0.2)
    right_plain = compute_score("math", "Answer: 7", "7", format_weight=0.2)
    wrong_boxed = compute_score("math", "\\boxed{8}", "7", format_weight=0.2)
    assert right_boxed["score"] == pytest.approx(1.0)
    assert right_plain["score"] == pytest.approx(0.8) and right_plain["format_ok"] == 0.0
    assert wrong_boxed["score"] == pytest.approx(0.2)


def test_every_result_has_the_same_keys_and_types():
    results = [
        compute_score("math", "\\boxed{1}", "1"),
        compute_score("math", None, "1"),
        compute_score("math", "x", None),
        compute_score("game/countdown", "<answer>1+1</answer>", '{"numbers": [1, 1], "target": 2, "use_all": true}'),
        compute_score("game/no_such_game", "x", "{}"),
    ]
    for result in results:
        assert list(result) == ["score", "acc", "format_ok", "pred", "error"]
        assert [type(v) for v in result.values()] == [float, float, float, str, str]
    assert "unknown game" in results[-1]["error"]


def test_concurrent_calls_from_threads():
    """verl calls compute_score from executor threads: results must not get mixed up."""
    jobs = [(f"\\boxed{{{i}/{i + 1}}}", f"\\frac{{{i}}}{{{i + 1}}}", True) for i in range(1, 13)]
    jobs += [(f"\\boxed{{{i + 1}/{i}}}", f"\\frac{{{i}}}{{{i + 1}}}", False) for i in range(1, 13)]
    results = [None] * len(jobs)

    def run(k):
        results[k] = compute_score("math", jobs[k][0], jobs[k][1])["acc"]

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [float(ok) for *_, ok in jobs]


def test_infinities_agree_only_with_the_same_infinity():
    """sympy sometimes simplifies 1 - oo**oo to 0, so math-verify alone would accept ∞^∞ for 1 in some
    processes; the numeric agreement check must reject it every time (inf <= 1e-9·inf is no agreement)."""
    oo_pow = sympy.Pow(sympy.oo, sympy.oo, evaluate=False)
    assert not _numbers_agree(sympy.Integer(1), oo_pow, "1", "\\infty^\\infty")
    assert not _numbers_agree(sympy.Integer(1), sympy.oo, "1", "\\infty")
    assert not _numbers_agree(sympy.oo, -sympy.oo, "\\infty", "-\\infty")
    assert not _numbers_agree(sympy.zoo, sympy.zoo, "", "")
    assert _numbers_agree(sympy.oo, oo_pow, "\\infty", "\\infty^\\infty")
    assert compute_score("math", "\\boxed{\\infty}", "\\infty")["acc"] == 1.0
    assert compute_score("math", "\\boxed{-\\infty}", "\\infty")["acc"] == 0.0


def test_each_distinct_answer_goes_to_the_sandbox_once_per_gold(monkeypatch):
    """GRPO-shaped: 16 samples, 3 distinct answers -> 3 sandbox calls, each parsing the gold under its own
    budget first; the verdict cache keeps the newest MAX entries."""
    from reward_fns import math_answer

    real, sent = math_answer._pool(1024), []

    class Counting:
        def call_steps(self, steps):
            sent.append(steps)
            return real.call_steps(steps)

    monkeypatch.setattr(math_answer, "_pool", lambda memory_mb: Counting())
    monkeypatch.setattr(math_answer, "_VERDICTS", math_answer._Verdicts(size=3))
    gold = "\\frac{\\sqrt{3}}{2}"
    answers = ["\\sin\\frac{\\pi}{3}", "\\cos\\frac{\\pi}{6}", "\\sin\\frac{\\pi}{4}"] * 5 + ["\\sin\\frac{\\pi}{3}"]  # not fast_numbers
    scores = [compute_score("math", f"\\boxed{{{a}}}", gold)["acc"] for a in answers]
    assert scores == [1.0, 1.0, 0.0] * 5 + [1.0]
    assert [steps[1][0][1] for steps in sent] == answers[:3]
    assert all(steps[0] == ((gold, None), math_answer.GOLD_TIMEOUT_S) for steps in sent)
    compute_score("math", "\\boxed{\\sin\\frac{2\\pi}{3}}", gold)  # a 4th distinct answer evicts the oldest
    compute_score("math", f"\\boxed{{{answers[0]}}}", gold)
    assert len(sent) == 5 and sent[-1][1][0][1] == answers[0]


def test_a_timeout_is_kept_only_when_it_repeats_and_only_for_a_while():
    """One timeout may be the machine's: not kept. Two in a row are kept for the TTL (a prompt's other samples
    do not each wait them out), then the pair is tried again. Definite verdicts are kept for good."""
    from reward_fns.math_answer import _Verdicts

    cache = _Verdicts(size=10, transient_ttl_s=0.2)
    cache.put(("g", "a", 0.8), (0.0, "timeout"))
    assert cache.get(("g", "a", 0.8)) is None
    cache.put(("g", "a", 0.8), (0.0, "timeout"))
    assert cache.get(("g", "a", 0.8)) == (0.0, "timeout")
    cache.put(("g", "b", 0.8), (1.0, ""))
    time.sleep(0.25)
    assert cache.get(("g", "a", 0.8)) is None and cache.get(("g", "b", 0.8)) == (1.0, "")
