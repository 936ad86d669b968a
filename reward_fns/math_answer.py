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
3. `equivalent(gold, pred)` in a `BoundedPool` worker (timeout + memory cap; workers forked from a zygote
   warmed on `WARMUP`; the gold parsed first under its own budget, verdicts cached per process:
   `check_in_sandbox`): formulas with symbolic series (sums with free bounds) are compared as formulas
   (`_same_formula`: math-verify would spend seconds evaluating them); otherwise math-verify parses both sides
   (LaTeX or plain expressions) and verifies; a numeric agreement check then rejects math-verify's
   6-decimal rounding traps (1/2^99 vs 1/2^98); closed forms it cannot prove equal are compared
   numerically (`_same_number`); percent golds also accept the fraction (50% <-> 0.5). If math-verify
   cannot parse a side, a sympy comparison of a whitelisted arithmetic AST is the fallback (never
   `eval`/`sympify` on model text).

Run: `python -m reward_fns.math_answer "<gold>" "<response>"` prints the score dict.
"""

from __future__ import annotations

import ast
import cmath
import functools
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
_DECIMAL = re.compile(r"^-?\d*\.(\d+)$")


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


# ---- the part that runs inside the bounded worker --------------------------------------------------

@functools.lru_cache(maxsize=4096)  # GRPO checks n responses against the same gold
def _parse(text: str):
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    wrapped = text if "$" in text or "\\(" in text else f"${text}$"
    return parse(
        wrapped,
        extraction_config=[LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()],
        parsing_timeout=None,  # the worker's process-level timeout bounds us instead of SIGALRM
    )


def _decimals(literal: str) -> Optional[int]:
    match = _DECIMAL.match(literal.strip().replace(" ", ""))
    return len(match.group(1)) if match else None


def _numbers_agree(gold, pred, gold_text: str, pred_text: str) -> bool:
    """After math-verify says "equal": numbers must agree in *relative* terms, or within the rounding
    of a decimal literal's own digits (0.333333 ~ 1/3, but 1/2^98 !~ 1/2^99)."""
    import sympy

    exprs = (gold, pred)
    if not all(isinstance(e, sympy.Expr) and e.is_number for e in exprs):
        return True  # sets, intervals, equations, symbols: math-verify's structural verdict stands
    try:  # doit(): math-verify leaves "28%" as the unevaluated 28*(1/100), which complex() cannot read
        a, b = (complex(sympy.N(e.doit(), 30)) for e in exprs)
    except (TypeError, ValueError):
        return True  # no numeric value to cross-check: math-verify's verdict stands
    if not (cmath.isfinite(a) and cmath.isfinite(b)):
        # sympy's simplify(1 - oo**oo) is sometimes 0, and inf <= 1e-9·inf would let it through:
        # an infinity matches only the same infinity; nan/zoo match nothing
        return a == b
    diff, scale = abs(a - b), max(abs(a), abs(b))
    if diff <= 1e-9 * scale or scale == 0:
        return True
    digits = [d for d in (_decimals(gold_text), _decimals(pred_text)) if d is not None]
    return bool(digits) and diff <= 0.5 * 10 ** (-min(digits)) * (1 + 1e-9)


_SCIENTIFIC = re.compile(r"^(-?\d+(?:\.\d+)?)[eE]([+-]?\d{1,3})$")


# Upright constants: math-verify drops \\mathrm{...} while parsing, so "2\\mathrm{e}" would read as 2 and
# "1 - \\frac{1}{\\mathrm{e}}" as 0 (and 1, 2, 1 + 1/e would all "match"). Written upright, e and i are
# Euler's number and the imaginary unit.
_UPRIGHT = re.compile(r"\\(?:mathrm|textrm|rm|operatorname|mathit)\s*\{\s*([ei])\s*\}")


@functools.lru_cache(maxsize=4096)  # the gold's readings: parsed once per worker, not once per response
def _readings(text: str) -> list[tuple[list, str]]:
    """(math-verify parse, literal) readings of one side; "50%" is read as 50 and as 50/100."""
    text = _UPRIGHT.sub(r"\1", text)
    scientific = _SCIENTIFIC.match(text.strip())
    if scientific:  # 1e6 / 2.5E-3: LaTeX would read the "e" as Euler's number
        text = f"{scientific.group(1)} \\times 10^{{{scientific.group(2)}}}"
    readings = [(_parse(text), text)]
    plain = _plain_expression(text)
    if plain is not None:  # 3*pi, sqrt(2)/2, 2**3: plain-text arithmetic, read exactly
        readings.append(([plain, text], text))
    if "%" in text:
        readings.append((_parse(text.replace("\\%", "").replace("%", "") + "/100"), ""))
    return readings


def equivalent(gold: str, pred: str) -> bool:
    """True if `pred` is mathematically the gold answer. Runs inside a sandbox worker."""
    from math_verify import verify

    golds, preds = _readings(gold), _readings(pred)
    if not (golds[0][0] and preds[0][0]):
        return sympy_equal(gold, pred)
    if _symbolic_series(golds[0][0][0]) or _symbolic_series(preds[0][0][0]):
        return any(_same_formula(g[0], p[0]) for g, _ in golds for p, _ in preds if g and p)
    return any(
        g and p and verify(g, p, timeout_seconds=None) and _numbers_agree(g[0], p[0], g_text, p_text)
        for g, g_text in golds
        for p, p_text in preds
    ) or _same_number(golds[0][0][0], preds[0][0][0])


def _symbolic_series(expr) -> bool:
    """Whether `expr` holds a sum, product or integral with free symbols (`\\sum_{k=0}^{n-1} F_k F_{n-k-1}`):
    no number stands for it, and math-verify's numeric comparison spends seconds trying to evaluate one."""
    import sympy

    return isinstance(expr, sympy.Basic) and any(obj.free_symbols for obj in expr.atoms(sympy.Sum, sympy.Product, sympy.Integral))


def _same_formula(gold, pred) -> bool:
    """Formulas with symbolic series compared as formulas: the same equation's left side (or none on one
    side) and right sides whose difference expands to 0 once the series that have closed forms are summed
    (`\\sum_{k=1}^{n} k` = n(n+1)/2)."""
    import sympy

    if gold == pred:
        return True
    (g_lhs, g_rhs), (p_lhs, p_rhs) = ((e.lhs, e.rhs) if isinstance(e, sympy.Eq) else (None, e) for e in (gold, pred))
    if g_lhs is not None and p_lhs is not None and g_lhs != p_lhs:
        return False
    if not (isinstance(g_rhs, sympy.Expr) and isinstance(p_rhs, sympy.Expr)):
        return False
    return g_rhs == p_rhs or sympy.expand(g_rhs.doit() - p_rhs.doit()) == 0


def worker_check(gold: str, pred: Optional[str]) -> bool:
    """The sandbox's entry point: `pred=None` only parses the gold (cached in this worker), under the gold's
    own budget, so that the answer's budget is spent on the answer."""
    if pred is None:
        _readings(gold)
        return True
    return equivalent(gold, pred)


def _same_number(gold, pred) -> bool:
    """Closed-form numbers math-verify cannot prove equal (cos(2π/7) + cos(4π/7) + cos(6π/7) = −1/2) are
    compared with 50 significant digits *below the leading one* — precision grows with the magnitude — and
    must agree to 1e-30 (absolute for |x| >= 1, relative below): 2^2023 − 1 is not 2^2023, and rounded
    decimals (0.3333 vs 1/3) never pass here; those are math-verify's and `_numbers_agree`'s to judge."""
    import sympy

    if not all(isinstance(e, sympy.Expr) and e.is_number for e in (gold, pred)):
        return False
    try:  # in sympy Floats throughout: a Python complex would keep 16 digits only
        a, b = (e.doit() for e in (gold, pred))
        rough = max(abs(complex(sympy.N(a, 15))), abs(complex(sympy.N(b, 15))))
        if not math.isfinite(rough):  # beyond 1e308 (or infinite): math-verify's exact verdict stands
            return False
        digits = 50 + max(0, int(math.log10(rough)) + 1) if rough > 0 else 50
        x, y = sympy.N(a, digits), sympy.N(b, digits)
        if not (x.is_finite and y.is_finite):
            return False
        diff = sympy.Abs(x - y)
        if x == 0 or y == 0:  # an unsimplified zero leaves a residue near 10^-digits
            return bool(diff <= sympy.Float("1e-40", digits))
        return bool(diff <= sympy.Float("1e-30", digits) * sympy.Min(1, sympy.Max(sympy.Abs(x), sympy.Abs(y))))
    except (TypeError, ValueError, AttributeError, OverflowError):
        return False


_FUNCS = {"sqrt", "exp", "log", "ln", "sin", "cos", "tan"}
_NAMES = {"pi", "e", "E", "i", "I"}
MAX_EXPONENT = 1000


def _to_sympy(node):
    import sympy

    if isinstance(node, ast.Expression):
        return _to_sympy(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return sympy.nsimplify(node.value) if isinstance(node.value, float) else sympy.Integer(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _to_sympy(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _to_sympy(node.left), _to_sympy(node.right)
        ops = {ast.Add: lambda: left + right, ast.Sub: lambda: left - right, ast.Mult: lambda: left * right, ast.Div: lambda: left / right}
        if type(node.op) in ops:
            return ops[type(node.op)]()
        if isinstance(node.op, ast.Pow):
            if not (right.is_number and abs(complex(right)) <= MAX_EXPONENT):
                raise ValueError("exponent too large")
            return left**right
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return {"pi": sympy.pi, "e": sympy.E, "E": sympy.E, "i": sympy.I, "I": sympy.I}[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS and len(node.args) == 1 and not node.keywords:
        fn = {"ln": "log"}.get(node.func.id, node.func.id)
        return getattr(sympy, fn)(_to_sympy(node.args[0]))
    raise ValueError(f"unsupported syntax: {type(node).__name__}")


def _plain_expression(text: str):
    """`text` as a sympy expression if it is whitelisted plain arithmetic (no LaTeX), else None."""
    if "\\" in text or len(text) > 200:
        return None
    try:
        return _to_sympy(ast.parse(text.replace("^", "**"), mode="eval"))
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError, ZeroDivisionError):
        return None


def sympy_equal(gold: str, pred: str) -> bool:
    """Fallback when math-verify reads nothing: both sides as whitelisted arithmetic (numbers,
    + - * / ^, pi, e, i, sqrt, exp, log, sin, cos, tan)."""
    import sympy

    a, b = _plain_expression(gold.replace("\\pi", "pi")), _plain_expression(pred.replace("\\pi", "pi"))
    if a is None or b is None:
        return False
    if sympy.simplify(a - b) == 0:
        return True
    return bool(a.is_number and b.is_number and abs(complex(sympy.N(a - b, 30))) <= 1e-9 * max(abs(complex(sympy.N(a, 30))), 1e-300))


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
            _POOL = BoundedPool("reward_fns.math_answer:worker_check", memory_mb=memory_mb, warmup_calls=WARMUP)
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
