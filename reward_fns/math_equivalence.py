"""Math equivalence of a gold and a predicted answer: what runs inside the bounded sandbox worker.

Why a module of its own: this is the part that parses model text (math-verify, sympy), so it runs only in a
`reward_fns.sandbox.BoundedPool` worker with a timeout and a memory cap; `reward_fns.math_answer` extracts
answers, takes the fast paths without any parser, caches verdicts and sends the rest here.

`worker_check(gold, pred)` is the worker's entry: symbolic series compared as formulas (`_same_formula`),
otherwise math-verify parses and verifies both sides; a numeric agreement check rejects math-verify's
6-decimal rounding traps (1/2^99 vs 1/2^98); closed forms it cannot prove equal are compared numerically
(`_same_number`); percent golds also accept the fraction. If math-verify cannot parse a side,
`sympy_equal` compares whitelisted arithmetic ASTs (never `eval`/`sympify` on model text).

Run: only through `reward_fns.math_answer.check_in_sandbox`; tests in tests/unit/reward_fns/test_math_answer.py.
"""

from __future__ import annotations

import ast
import cmath
import functools
import math
import re
from typing import Optional

_DECIMAL = re.compile(r"^-?\d*\.(\d+)$")


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


