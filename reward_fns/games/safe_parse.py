"""Parsers that cannot execute anything: what stands in for `eval` and sympy's `parse_expr` on model text.

Why: reasoning-gym scorers evaluate answers with `eval(answer)` or `parse_expr(answer)` (itself an eval).
The sandbox worker (`reward_fns.games.rg_worker`) swaps these in for every such call site, and the
answer-shape guards in `reward_fns.games.rg_fixes` use them too. Each walks a Python AST and accepts only a
whitelist (literals; integer arithmetic; + - * / ** with small exponents and a few named functions), with
bounded input length and exponents.

Run: imported by rg_worker and rg_fixes; tests in tests/unit/reward_fns/test_rg.py.
"""

from __future__ import annotations

import ast
import operator

MAX_PARSE_CHARS = 2_000
MAX_EXPONENT = 100
MAX_SHIFT = 4_096


def literal_eval(text, *_ignored):
    """Stands in for `eval` where reasoning-gym reads a Python literal (lists, strings, numbers)."""
    return ast.literal_eval(text[:MAX_PARSE_CHARS] if isinstance(text, str) and len(text) > MAX_PARSE_CHARS else text)


_INT_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.LShift: operator.lshift,
            ast.RShift: operator.rshift, ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor}


def int_eval(text, *_ignored):
    """Stands in for `eval` of bitwise_arithmetic's generated problems: ints, + - * << >> & | ^ only."""

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = walk(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and type(node.op) in _INT_OPS:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.LShift) and not 0 <= right <= MAX_SHIFT:
                raise ValueError("shift too large")
            return _INT_OPS[type(node.op)](left, right)
        raise ValueError(f"unsupported syntax: {type(node).__name__}")

    if not isinstance(text, str) or len(text) > MAX_PARSE_CHARS:
        raise ValueError("not a short string")
    return walk(ast.parse(text, mode="eval"))


_SYMPY_FUNCS = ("sin", "cos", "tan", "cot", "sec", "csc", "asin", "acos", "atan", "sinh", "cosh", "tanh",
                "exp", "log", "ln", "sqrt", "Abs", "abs")


def safe_parse_expr(text, local_dict=None, *_args, **_kwargs):
    """Stands in for sympy's parse_expr / sympify of strings: numbers, names (-> symbols or `local_dict`),
    + - * / ** (small exponents), unary minus and a few named functions. Anything else raises ValueError."""
    import sympy

    local_dict = local_dict or {}
    constants = {"pi": sympy.pi, "E": sympy.E, "I": sympy.I, "oo": sympy.oo}

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return sympy.Integer(node.value) if type(node.value) is int else sympy.Float(node.value)
        if isinstance(node, ast.Name):
            if node.id in local_dict:
                return local_dict[node.id]
            return constants.get(node.id) or sympy.Symbol(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = walk(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Div):
                return left / right
            if isinstance(node.op, ast.Pow):
                if not (right.is_number and abs(complex(right)) <= MAX_EXPONENT):
                    raise ValueError("exponent too large")
                return left**right
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _SYMPY_FUNCS
                and len(node.args) == 1 and not node.keywords):
            name = {"ln": "log", "abs": "Abs"}.get(node.func.id, node.func.id)
            return getattr(sympy, name)(walk(node.args[0]))
        raise ValueError(f"unsupported syntax: {type(node).__name__}")

    if not isinstance(text, str) or len(text) > MAX_PARSE_CHARS:
        raise ValueError("not a short string")
    return walk(ast.parse(text.strip(), mode="eval"))
