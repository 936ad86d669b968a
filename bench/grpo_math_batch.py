"""GRPO-shaped math batches: 64 prompts x 16 samples with MATH-style golds and realistic answer duplication.

Why: GRPO scores n samples per prompt against one gold, and the samples of one prompt repeat a handful of
final answers (the right one, mostly in its usual form, and one to three popular wrong ones). A checker's
speed on such a batch, not on a list of distinct pairs, is what an RL step waits for.

Labels follow from the construction (each template lists forms equal to the gold and forms that are not;
a value-changing edit is never in the "equal" list), never from a checker. Used by `bench/rewards.py`.
"""

from __future__ import annotations

import random
from math import gcd

REASONING = "Let us compute carefully. " * 80  # ~2,000 characters of chain of thought


def _squarefree(rng: random.Random) -> int:
    return rng.choice([2, 3, 5, 6, 7, 10, 11, 13, 14, 15])


def _template(rng: random.Random) -> tuple[str, list[str], list[str]]:
    """(gold, equal forms with the usual one first, wrong answers with the most popular first)."""
    kind = rng.randrange(8)
    a, b = rng.randint(1, 40), rng.randint(2, 41)
    if kind == 0:  # a reduced fraction
        g = gcd(a, b)
        a, b = a // g, b // g + (1 if b // g == 1 else 0)
        k = rng.randint(2, 5)
        return (f"\\frac{{{a}}}{{{b}}}", [f"\\frac{{{a}}}{{{b}}}", f"\\dfrac{{{a}}}{{{b}}}", f"{a}/{b}", f"\\frac{{{k * a}}}{{{k * b}}}"],
                [f"\\frac{{{b}}}{{{a}}}" if a != b else f"\\frac{{{a + 1}}}{{{b}}}", f"\\frac{{{a + 1}}}{{{b}}}", f"\\frac{{{a}}}{{{b + 1}}}"])
    if kind == 1:  # a radical
        k, m = rng.randint(2, 9), _squarefree(rng)
        return (f"{k}\\sqrt{{{m}}}", [f"{k}\\sqrt{{{m}}}", f"\\sqrt{{{k * k * m}}}", f"{k} \\sqrt {{{m}}}", f"\\sqrt{{{m}}}\\cdot {k}"],
                [f"{k}\\sqrt{{{m + 1}}}", f"{k + 1}\\sqrt{{{m}}}", f"\\sqrt{{{k * m}}}"])
    if kind == 2:  # a rationalised denominator
        m = _squarefree(rng)
        return (f"\\frac{{\\sqrt{{{m}}}}}{{{m}}}", [f"\\frac{{\\sqrt{{{m}}}}}{{{m}}}", f"\\frac{{1}}{{\\sqrt{{{m}}}}}", f"\\frac{{ \\sqrt{{{m}}} }}{{{m}}}"],
                [f"\\sqrt{{{m}}}", f"\\frac{{\\sqrt{{{m}}}}}{{{m + 1}}}", f"\\frac{{{m}}}{{\\sqrt{{{m + 1}}}}}"])
    if kind == 3:  # an interval
        lo, hi = -a, b
        return (f"[{lo}, {hi})", [f"[{lo}, {hi})", f"[{lo},{hi})", f"\\left[{lo}, {hi}\\right)"],
                [f"({lo}, {hi})", f"[{lo}, {hi}]", f"[{lo}, {hi + 1})"])
    if kind == 4:  # an ordered pair
        return (f"({a}, {-b})", [f"({a}, {-b})", f"({a},{-b})", f"\\left({a}, {-b}\\right)"],
                [f"({-b}, {a})", f"({a}, {b})", f"({a + 1}, {-b})"])
    if kind == 5:  # an AIME-style integer
        n = rng.randint(10, 999)
        return (str(n), [str(n), f"{n}.0", f"{n}"], [str(n + rng.randint(1, 9)), str(n - 1), str(2 * n)])
    if kind == 6:  # a multiple of pi
        g = gcd(a, b)
        a, b = a // g, b // g + (1 if b // g == 1 else 0)
        return (f"\\frac{{{a}\\pi}}{{{b}}}", [f"\\frac{{{a}\\pi}}{{{b}}}", f"\\frac{{{a}}}{{{b}}}\\pi", f"{a}\\pi/{b}"],
                [f"\\frac{{{a}}}{{{b}}}", f"\\frac{{{a + 1}\\pi}}{{{b}}}", f"\\frac{{{b}\\pi}}{{{a}}}" if a != b else f"{a + 2}\\pi"])
    # a polynomial's roots
    r, s = -a, a + b  # distinct magnitudes: (−r, −s) is a different set
    return (f"{r}, {s}", [f"{r}, {s}", f"{s}, {r}", f"x = {r}, x = {s}"], [f"{-r}, {-s}", f"{r}", f"{r}, {s + 1}"])


def grpo_batch(seed: int, prompts: int = 64, samples: int = 16) -> list[tuple[str, str, bool]]:
    """(gold, response, correct?) for `prompts` x `samples` responses. Per prompt: a success rate drawn
    in [0.1, 0.9]; right answers in the usual form 70% of the time; wrong answers from one to three
    popular mistakes (weights 6:3:1)."""
    rng = random.Random(seed)
    batch = []
    for _ in range(prompts):
        gold, equal, wrong = _template(rng)
        p_right, n_wrong = rng.uniform(0.1, 0.9), rng.randint(1, 3)
        for _ in range(samples):
            if rng.random() < p_right:
                answer = equal[0] if rng.random() < 0.7 else rng.choice(equal[1:])
                ok = True
            else:
                answer, ok = rng.choices(wrong[:n_wrong], weights=[6, 3, 1][:n_wrong])[0], False
            batch.append((gold, f"{REASONING}\\boxed{{{answer}}}", ok))
    return batch
