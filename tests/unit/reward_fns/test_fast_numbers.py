"""The fast closed-form path must decide exactly as the full checker (math-verify in the sandbox) does.

The reference is `equivalent`, math-verify's parse + verify, run here in-process on benign inputs; the
values in the evaluator test are computed by sympy, not by the code under test.
"""

import random

import pytest
import sympy

from bench.grpo_math_batch import grpo_batch
from reward_fns.fast_numbers import _context, _Reader, _tokens, fast_verdict
from reward_fns.math_answer import extract_answer, gold_answer
from reward_fns.math_equivalence import equivalent
from tests.unit.reward_fns.math_corpus import CASES


def _pairs():
    pairs = {(gold_answer(g), extract_answer(r).answer) for _, g, r, _ in CASES}
    for seed in range(2):
        pairs |= {(gold_answer(g), extract_answer(r).answer) for g, r, _ in grpo_batch(seed)}
    return sorted((g, p) for g, p in pairs if p)


def test_decides_like_the_full_checker_wherever_it_decides():
    decided = 0
    for gold, pred in _pairs():
        fast = fast_verdict(gold, pred)
        if fast is not None:
            decided += 1
            assert fast == float(equivalent(gold, pred)), (gold, pred, fast)
    assert decided >= 150  # it does take a real share of the work


@pytest.mark.parametrize(
    "latex,value",
    [
        ("\\frac{\\sqrt{3}}{2}", sympy.sqrt(3) / 2), ("2\\sqrt{15}", 2 * sympy.sqrt(15)), ("\\frac12", sympy.Rational(1, 2)),
        ("\\dfrac{11\\pi}{13}", 11 * sympy.pi / 13), ("\\sqrt[3]{2}\\cdot 3", 3 * sympy.cbrt(2)), ("-2^{2}", -4),
        ("(1+\\sqrt{5})/2", (1 + sympy.sqrt(5)) / 2), ("2^{-3}", sympy.Rational(1, 8)), ("3\\times 4-5", 7),
        ("\\left(2\\right)^{10}", 1024), ("\\frac{1}{\\sqrt{2}+1}", sympy.sqrt(2) - 1), ("\\tfrac{\\pi}{4}", sympy.pi / 4),
    ],
)
def test_evaluator_against_sympy(latex, value):
    got = _Reader(_tokens(latex), _context()).expr()
    assert abs(complex(got) - complex(sympy.N(value, 30))) < 1e-12


@pytest.mark.parametrize(
    "gold,pred",
    [
        ("\\frac12", "0.5"), ("\\sqrt15", "\\sqrt{15}"), ("2 3", "6"), ("(1,2),(2,1)", "(2,1),(1,2)"), ("\\{1,2\\}", "\\{2,1\\}"),
        ("x+1", "1+x"), ("50\\%", "\\frac12"), ("10^{10^{10}}", "1"), ("e^{2}", "e^2"), ("1,000", "1000"),
        ("(-8)^{1/3}", "-2"), ("\\frac{1}{0}", "1"), ("9^{9^{9^{9}}}", "1"), ("(" * 40 + "1" + ")" * 40, "1"), ("1" * 300, "1"),
    ],
)
def test_defers_outside_its_subset(gold, pred):
    assert fast_verdict(gold, pred) is None


def test_random_expressions_match_sympy():
    rng = random.Random(0)
    atoms = [("\\sqrt{2}", sympy.sqrt(2)), ("\\pi", sympy.pi), ("3", 3), ("\\frac{5}{7}", sympy.Rational(5, 7)), ("\\sqrt[3]{4}", sympy.cbrt(4))]
    for _ in range(300):
        (a, va), (b, vb), (c, vc) = (rng.choice(atoms) for _ in range(3))
        latex, value = rng.choice([
            (f"{a}+{b}\\cdot {c}", va + vb * vc), (f"\\frac{{{a}-{b}}}{{{c}}}", (va - vb) / vc), (f"({a}+{b})^{{2}}", (va + vb) ** 2),
        ])
        assert abs(complex(_Reader(_tokens(latex), _context()).expr()) - complex(sympy.N(value, 30))) < 1e-12, latex


def test_random_token_soup_never_raises_and_stays_fast():
    import time

    rng = random.Random(1)
    alphabet = ["1", "23", "0", "\\frac", "\\sqrt", "\\pi", "\\infty", "^", "{", "}", "(", ")", "[", "]", ",", "-", "+", "/", "\\cdot", " ", "9", "\\left", "["]
    slowest = 0.0
    for _ in range(3000):
        a, b = ("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(2))
        start = time.perf_counter()
        verdict = fast_verdict(a, b)
        slowest = max(slowest, time.perf_counter() - start)
        assert verdict in (None, 0.0, 1.0)
    assert slowest < 0.5


@pytest.mark.parametrize(
    "gold,pred",
    [  # found by review: forms where a careless fast path and math-verify part ways
        ("2^{2023}", "2^{2023}-1"), ("2^{100}", "2^{100}-1"), ("10^{40}", "10^{40}+1"), ("1267650600228229401496703205376", "2^{100}+1"),
        ("\\frac{\\pi}{2}", "1/2\\pi"), ("\\frac{1}{2\\pi}", "1/2\\pi"), ("\\frac{3}{4\\pi}", "3/4\\pi"), ("\\frac{2}{3}\\sqrt{3}", "2/3\\sqrt{3}"),
        ("\\frac{7}{2}", "3\\frac{1}{2}"), ("\\frac{3}{2}", "3\\frac{1}{2}"), ("6", "2(3)"), ("6", "(2)(3)"), ("2\\pi", "\\pi(2)"), ("6", "2{3}"),
        ("0", "\\frac{\\sqrt{6}}{\\sqrt{2}\\sqrt{3}}-1"), ("0", "\\sqrt{3}\\cdot\\sqrt{12}-6"), ("[1, \\infty)", "[1,\\infty]"),
        ("\\frac{2^{200}+1}{3}", "\\frac{2^{200}-2}{3}"),
    ],
)
def test_ambiguous_forms_are_left_to_the_full_checker_or_agree_with_it(gold, pred):
    fast = fast_verdict(gold, pred)
    assert fast is None or fast == float(equivalent(gold, pred)), (fast, equivalent(gold, pred))


def test_each_thread_keeps_its_own_precision():
    import threading

    import mpmath

    results = []

    def work():
        for _ in range(200):
            results.append(fast_verdict("\\frac{1}{3}\\sqrt{2}", "\\frac{\\sqrt{2}}{3}"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [1.0] * 800 and mpmath.mp.dps == 15  # the global context is never touched
