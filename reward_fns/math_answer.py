"""Math answers: extract the final answer from a response and decide equivalence with the gold answer.

Why: GRPO on math needs a reward that is right (no credit for "1331 and 1728" when the answer is 1728,
none for 1/2^98 when it is 1/2^99), fast, and safe on adversarial text.

Pipeline for one response:
1. `reward_fns.extract.extract_answer` (in the caller's process; linear-time, bounded): the answer after
   the thinking, in the final group of boxes or a final-answer statement after them, else the configured
   fallbacks. Golds are read by the same rules (`gold_answer`).
2. Fast paths without any parser: identical after whitespace/`$` normalisation -> correct; both
   plain numbers (integers, decimals, a/b, \\frac{a}{b}) -> compared as exact fractions (a decimal
   that differs still goes on to step 3, which knows rounding); closed-form numbers and tuples/intervals
   of them are read by `reward_fns.fast_numbers` and compared at 60 digits.
3. `reward_fns.math_equivalence.worker_check(gold, pred)` in a `BoundedPool` worker (timeout + memory cap;
   workers forked from a zygote warmed on `WARMUP`; the gold parsed first under its own budget, verdicts
   cached per process: `check_in_sandbox`): math-verify with guards against its rounding traps, numeric
   comparison of closed forms, and a whitelisted-AST sympy fallback (see that module).

Run: `python -m reward_fns.math_answer "<gold>" "<response>"` prints the score dict.
"""

from __future__ import annotations

import math
import re
import sys
import threading
import time
from fractions import Fraction
from typing import Optional

from reward_fns.extract import DEFAULT_FALLBACKS, MAX_ANSWER_CHARS, boxed_content, clean, extract_answer
from reward_fns.fast_numbers import fast_verdict
from reward_fns.result import reward_result
from reward_fns.sandbox import BoundedPool

DEFAULT_TIMEOUT_S = 0.8  # per check of an answer; keeps the worst case under 1 s
GOLD_TIMEOUT_S = 5.0  # parsing a gold answer (trusted data), once per worker process
TRANSIENT_ERRORS = ("timeout", "worker died")  # verdicts that may depend on the machine's load
TRANSIENT_TTL_S = 120.0  # a pair that timed out twice in a row is not tried again for this long
MAX_VERDICTS = 50_000  # cached (gold, answer) verdicts per process: at most ~100 MB of keys, usually far less


_INTEGER = r"-?(?:\d{1,3}(?:,\d{3})+|\d+)"
_EXACT = [
    re.compile(rf"^({_INTEGER})$"),
    re.compile(rf"^((?:{_INTEGER})?\.\d+)$"),
    re.compile(r"^(-?\d+)\s*/\s*(\d+)$"),
    re.compile(r"^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$"),
]


def exact_number(answer: str) -> Optional[Fraction]:
    """Integers and decimals (1,000 grouping allowed), a/b and \\frac{a}{b} as exact fractions; else None.

    A comma followed by a space separates list items, so "32, 349" is the list (32, 349), never 32349:
    thousands are grouped without spaces ("32,349")."""
    if re.search(r",\s", answer):
        return None
    text = answer.replace(" ", "")
    for i, pattern in enumerate(_EXACT):
        match = pattern.match(text)
        if not match:
            continue
        if i < 2:
            return Fraction(match.group(1).replace(",", ""))
        if i == 2:
            return Fraction(int(match.group(1)), int(match.group(2))) if int(match.group(2)) else None
        sign = -1 if match.group(1) else 1
        return sign * Fraction(int(match.group(2)), int(match.group(3))) if int(match.group(3)) else None
    return None


def literal_key(answer: str) -> str:
    """Normalisation for the exact-match fast path (whitespace, `$`, `\\left/\\right`, `\\!`)."""
    answer = answer.replace("\\left", "").replace("\\right", "").replace("\\!", "").replace("$", "")
    return re.sub(r"\s+", "", answer)


# ---- the reward ------------------------------------------------------------------------------------

# One pair per kind of answer the checker meets (numbers, radicals, trig, e, sets, intervals, unions, relations,
# equations, ±, sums, matrices, text, percent, degrees, tuples, lists, subscripts, polynomials), then answer
# shapes parsed only: the zygote checks them once before forking (a few seconds, once per process), so no
# worker pays a first use (lazy imports, sympy's caches, the LaTeX parser's prediction cache: up to ~0.5 s)
# inside an answer's budget.
WARMUP = (
    ("\\frac{1}{2}", "0.5"), ("2\\sqrt{3}", "\\sqrt{12}"), ("\\frac{\\sqrt{3}}{2}", "\\sin\\frac{\\pi}{3}"),
    ("1 - \\frac{1}{\\mathrm{e}}", "1 + e^{-1}"), ("\\{1, 2\\}", "\\{2, 1, 3\\}"), ("[0, 1)", "(0, 1]"),
    ("(-\\infty, 0) \\cup (1, \\infty)", "2"), ("x \\ge 2", "x \\leq 2"), ("-1 < a < 1", "(-1, 1)"),
    ("x = 2", "y = 2x + 1"), ("a_3 = 2, a_{37} = 19", "2"), ("1 \\pm \\sqrt{2}", "\\{1, 2\\}"),
    ("\\sum_{k=1}^{n} k", "\\frac{n(n+1)}{2}"), ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "(1, 2)"),
    ("\\text{Evelyn}", "\\text{Carla}"), ("28\\%", "0.28"), ("90^\\circ", "\\frac{\\pi}{2}"), ("(1, 2)", "1, 2, 3"),
    ("(x+1)^2", "x^2+2x+1"), ("2 \\sin b \\cos a", "\\sin(a+b) - \\sin(a-b)"), ("2^{10}", "1024"), ("\\log_2 8", "3"),
    ("f(x) = 1", "x^2/4 + y^2/3 = 1"),
) + tuple((text, None) for text in (  # parsed only: each new shape costs the parser ~10-100 ms once per process
    "\\dfrac{3}{4}", "-\\frac{7}{2}", "\\frac{\\sqrt{2}}{2}", "3\\sqrt[3]{2}", "\\frac{1+\\sqrt{5}}{2}", "2\\pi r", "e^{i\\pi}",
    "\\log_{3} 81", "\\ln 2", "\\tan^2(y)+1", "\\sec^2 y", "\\arcsin\\frac{1}{2}", "\\cos^{-1} x", "x^{2/3}", "\\sqrt{x^2+1}",
    "\\frac{x+2}{7}", "(a+5)(b+2)", "2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}", "x^2+y^2=25", "k \\geq 2", "x \\neq 3",
    "-2 \\le x \\le 7", "x \\in [-2, 7]", "(1, +\\infty)", "[-1, -\\tfrac12) \\cup (0, 1]", "\\{-1\\} \\cup [0,7)",
    "\\emptyset", "\\{1, 3, 5\\}", "(1, 2), (2, 1)", "(6,31,-1)", "\\left( 3, \\frac{\\pi}{2} \\right)", "\\langle 1, 2 \\rangle",
    "\\begin{bmatrix} 0 & 1 \\\\ 1 & 0 \\end{bmatrix}", "\\begin{pmatrix} 3 \\\\ 2 \\\\ -6 \\end{pmatrix}", "\\binom{5}{2}", "5!",
    "\\sum_{n=1}^{\\infty} \\frac{1}{n^2}", "\\prod_{k=1}^{n} k", "\\int_0^1 x^2 \\, dx", "\\lim_{x \\to 0} \\frac{\\sin x}{x}",
    "F_n = F_{n-1} + F_{n-2}", "S_n = \\sum_{k=1}^{n} a_k b_{n-k}", "a_{n} = 2^{n}", "f(2) < f(1) < f(4)", "\\text{(C)}", "\\textbf{(E)}", "12 \\text{ cm}^2",
    "15\\mbox{ cm}^2", "204_5", "0.\\overline{3}", "3.14", "1,000,000", "50\\%", "45^{\\circ}", "\\pm 2", "1 \\pm \\sqrt{19}",
    "x = \\frac{1}{2}, x = \\frac{-1 \\pm \\sqrt{13}}{4}", "10^{\\frac{-5+\\sqrt{13}}{6}}", "|AB| = 1", "A:B=1", "12:00",
    "6 \\text{ and } 8", "19, 46, \\text{ and } 82", "\\mathbf{v}", "\\overrightarrow{AB}", "\\angle ABC = 90^\\circ",
))
_POOL: Optional[BoundedPool] = None
_POOL_LOCK = threading.Lock()


def _pool(memory_mb: int) -> BoundedPool:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = BoundedPool("reward_fns.math_equivalence:worker_check", memory_mb=memory_mb, warmup_calls=WARMUP)
        return _POOL


class _Verdicts:
    """(gold, answer, timeout_s) -> (acc, error) within this process. GRPO scores n samples per prompt against
    one gold, and many samples end in the same answer: each distinct answer is checked once. A timeout or a
    dead worker can be the machine's (under load), not the answer's: the first for a pair is not kept; a second
    in a row is kept for `transient_ttl_s` (about one RL step, so that a prompt's 16 samples do not each wait
    out the timeout), then the pair is tried again. A failure to start a worker raises and is not kept."""

    def __init__(self, size: int = MAX_VERDICTS, transient_ttl_s: float = TRANSIENT_TTL_S):
        self._items: dict[tuple, tuple[float, str, float]] = {}  # key -> (acc, error, served until)
        self._size, self._ttl, self._lock = size, transient_ttl_s, threading.Lock()

    def get(self, key: tuple) -> Optional[tuple[float, str]]:
        with self._lock:
            item = self._items.get(key)
        return item[:2] if item is not None and item[2] > time.monotonic() else None

    def put(self, key: tuple, verdict: tuple[float, str]) -> None:
        if self._size <= 0:  # size 0: no caching
            return
        with self._lock:
            until = math.inf
            if verdict[1] in TRANSIENT_ERRORS:  # a first strike is only noted (served until 0: never)
                until = time.monotonic() + self._ttl if key in self._items else 0.0
            if key not in self._items and len(self._items) >= self._size:
                del self._items[next(iter(self._items))]  # oldest first
            self._items[key] = (*verdict, until)


_VERDICTS = _Verdicts()


def check_in_sandbox(gold: str, pred: str, timeout_s: float, memory_mb: int) -> tuple[float, str]:
    """(acc, error) of `pred` against `gold`: the gold parsed under GOLD_TIMEOUT_S (once per worker), the
    answer checked under `timeout_s`, the verdict cached per (gold, answer, timeout_s)."""
    key = (gold, pred, timeout_s)
    cached = _VERDICTS.get(key)
    if cached is not None:
        return cached
    outcome = _pool(memory_mb).call_steps([((gold, None), GOLD_TIMEOUT_S), ((gold, pred), timeout_s)])
    verdict = (float(outcome.ok and bool(outcome.value)), outcome.error)
    _VERDICTS.put(key, verdict)
    return verdict


def gold_answer(ground_truth) -> str:
    text = str(ground_truth)
    boxed = boxed_content(text)
    return clean(boxed if boxed is not None else text)


def score_math(
    solution_str: str,
    ground_truth,
    *,
    answer_fallbacks: tuple[str, ...] = DEFAULT_FALLBACKS,
    thinking: str = "auto",
    format_weight: float = 0.0,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = 1024,
) -> dict:
    """Reward for one math response: score = (1 − w)·acc + w·format_ok with w = `format_weight`
    (format_ok: the final part of the response has a \\boxed{}). `thinking`: "auto", "required" or "off"
    (`reward_fns.extract.after_thinking`). Never raises on bad input; errors are reported."""
    if not isinstance(solution_str, str) or not isinstance(ground_truth, (str, int, float)) or isinstance(ground_truth, bool):
        return reward_result(error=f"bad input types: {type(solution_str).__name__}, {type(ground_truth).__name__}")
    gold = gold_answer(ground_truth)
    found = extract_answer(solution_str, tuple(answer_fallbacks), thinking)
    pred, error, acc = found.answer or "", "", 0.0
    if found.answer is None:
        error = found.error or "no answer found"
    elif len(pred) > MAX_ANSWER_CHARS:
        error = "answer too long"
    elif literal_key(pred) == literal_key(gold):
        acc = 1.0
    elif (numbers := (exact_number(gold), exact_number(pred)))[0] is not None and numbers[1] is not None and (
        numbers[0] == numbers[1] or "." not in gold + pred
    ):
        acc = float(numbers[0] == numbers[1])  # plain numbers: exact, no parser (decimals may round: below)
    elif (fast := fast_verdict(gold, pred)) is not None:
        acc = fast  # closed-form numbers, tuples and intervals of them: read and evaluated without the sandbox
    else:
        acc, error = check_in_sandbox(gold, pred, timeout_s, memory_mb)
    format_ok = found.boxed
    return reward_result((1 - format_weight) * acc + format_weight * format_ok, acc, format_ok, pred, error)


def main() -> None:
    print(score_math(sys.argv[2], sys.argv[1]))


if __name__ == "__main__":
    main()
