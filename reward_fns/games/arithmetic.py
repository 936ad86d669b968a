"""Safe evaluation of model-written arithmetic (+ − × ÷, parentheses, integers) with exact fractions.

Why: Countdown-style answers are expressions written by the policy. They are never passed to
`eval`/`exec`/sympy: the text is length-capped, checked against a character whitelist, parsed with
`ast` and walked over a whitelist of node types (integer literals, + − * /, unary ±). Every value is
a `Fraction` whose numerator and denominator are bounded, so no input can allocate huge integers;
powers do not exist in this grammar.

Use: `evaluate("(25 - 5) * 4")` -> `Evaluation(value=Fraction(80), numbers=[25, 5, 4])`; raises
`ArithmeticRejected` for anything else.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from fractions import Fraction

MAX_CHARS = 300
MAX_MAGNITUDE = 10**15  # bound on |numerator| and |denominator| of every intermediate value
MAX_NODES = 200
_ALLOWED = re.compile(r"^[0-9+\-*/() .]*$")
_TRANSLATE = str.maketrans({"×": "*", "x": "*", "X": "*", "÷": "/", "−": "-", "–": "-", "[": "(", "]": ")", "{": "(", "}": ")"})


class ArithmeticRejected(ValueError):
    """The text is not a bounded integer arithmetic expression."""


@dataclass(frozen=True)
class Evaluation:
    value: Fraction
    numbers: list[int]  # integer literals, in the order written


def _bounded(value: Fraction) -> Fraction:
    if abs(value.numerator) > MAX_MAGNITUDE or value.denominator > MAX_MAGNITUDE:
        raise ArithmeticRejected("intermediate value too large")
    return value


def evaluate(text: str) -> Evaluation:
    if not isinstance(text, str) or len(text) > MAX_CHARS:
        raise ArithmeticRejected("not a string of at most %d characters" % MAX_CHARS)
    text = text.translate(_TRANSLATE).replace("\\times", "*").replace("\\cdot", "*").replace("\\div", "/")
    if "**" in text or not _ALLOWED.match(text) or not text.strip():
        raise ArithmeticRejected("only integers, + - * / and parentheses are allowed")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        raise ArithmeticRejected(f"not an expression: {type(err).__name__}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ArithmeticRejected("expression too long")
    numbers: list[int] = []

    def walk(node) -> Fraction:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            numbers.append(node.value)
            return _bounded(Fraction(node.value))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = walk(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Add):
                return _bounded(left + right)
            if isinstance(node.op, ast.Sub):
                return _bounded(left - right)
            if isinstance(node.op, ast.Mult):
                return _bounded(left * right)
            if right == 0:
                raise ArithmeticRejected("division by zero")
            return _bounded(left / right)
        raise ArithmeticRejected(f"{type(node).__name__} is not allowed")

    try:
        value = walk(tree)
    except RecursionError:
        raise ArithmeticRejected("expression nested too deeply") from None
    return Evaluation(value, numbers)
