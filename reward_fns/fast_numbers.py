"""A fast verdict for answers that are closed-form numbers, before anything is sent to the sandbox.

Why: in a GRPO batch most distinct answers that reach the symbolic checker are plain closed forms —
`2\\sqrt{15}`, `\\frac{\\sqrt{7}}{7}`, `\\frac{11\\pi}{13}`, `[-4, 33)`, `(26, -22)` — and math-verify spends
~30 ms of ANTLR parsing on each. This module reads a small LaTeX subset (integers, + − · × /, implicit
products, `^`, `\\frac`/`\\dfrac`/`\\tfrac`, `\\sqrt`, `\\sqrt[n]`, `\\pi`, `\\infty`, brackets; tuples and
intervals of those) with a recursive-descent parser and evaluates it with mpmath at 60 digits (a context
per thread).

It decides only what the full checker would decide the same way (tests compare the two on the labelled
corpus, on GRPO-shaped batches and on the ambiguous forms below): values equal to 1e-30 (absolute for
|x| >= 1, relative below: the full checker's own closed-form rule) -> correct, values apart by more than
1e-10 relative -> wrong; anything else returns None and goes to the sandbox: decimals (rounding rules),
percent, units, variables, sets, bare lists, numbers above 1e25 (2^{100} vs 2^{100} - 1), a zero against
a tiny residue, implicit products other than with \\pi and \\sqrt, or after a `/` (`1/2\\pi`, `3\\frac{1}{2}`,
`2(3)`, "2 3" are read differently by different readers), an interval's bracket at infinity. Linear in the text (at most MAX_CHARS) and bounded in depth and exponent size,
so it is safe to run in the caller's process.

Run: `python -m reward_fns.fast_numbers "<gold>" "<answer>"` prints the verdict (1.0, 0.0 or None).
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Optional

import mpmath

MAX_CHARS, MAX_DEPTH, MAX_EXPONENT = 200, 30, 1000
MAX_MAGNITUDE = 1e25  # beyond it 60 digits cannot tell 2^{100} from 2^{100} - 1: the sandbox decides exactly
_LOCAL = threading.local()


def _context() -> mpmath.MPContext:
    """This thread's 60-digit mpmath context (mpmath's global `mp` is shared by all threads: verl calls
    rewards from thread pools, and `workdps` in one thread would change another's precision)."""
    if not hasattr(_LOCAL, "ctx"):
        _LOCAL.ctx = mpmath.MPContext()
        _LOCAL.ctx.dps = 60
    return _LOCAL.ctx
_TOKEN = re.compile(r"\s*(\d+|\\[a-zA-Z]+|\\[,;!: ]|[-+*/^(){}\[\],])")
_SPACING = {"\\,", "\\;", "\\!", "\\:", "\\ ", "\\left", "\\right"}
_FRAC = {"\\frac", "\\dfrac", "\\tfrac"}


class _Unsupported(Exception):
    """Outside the subset: the sandbox decides."""


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise _Unsupported(text[pos:])
        pos = match.end()
        if match.group(1) not in _SPACING:
            out.append(match.group(1))
    return out


class _Reader:
    """Recursive descent over `_tokens`; every method returns an mpmath number."""

    def __init__(self, tokens: list[str], ctx: mpmath.MPContext):
        self.tokens, self.pos, self.depth, self.ctx = tokens, 0, 0, ctx

    def peek(self) -> Optional[str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: Optional[str] = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise _Unsupported(f"expected {expected!r}, got {token!r}")
        self.pos += 1
        return token

    def expr(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Unsupported("too deep")
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        self.depth -= 1
        return value

    def term(self):
        value, divided = self.signed(), False
        while True:
            token = self.peek()
            if token in ("*", "\\cdot", "\\times", "/"):
                self.take()
                right = self.signed()
                if token == "/":
                    if right == 0:
                        raise _Unsupported("division by zero")
                    value, divided = value / right, True
                else:
                    value = value * right
            elif token in ("\\pi", "\\sqrt") and not divided:
                value = value * self.power()  # implicit product: 2\sqrt{3}, 3\pi, \frac{1}{2}\sqrt{3}
            elif token is not None and (token in ("(", "{", "\\pi", "\\sqrt") or token in _FRAC or token.isdigit()):
                # read differently by readers: 1/2\pi (1/(2π) to math-verify), 3\frac{1}{2} (a mixed
                # number), 2(3), 2{3} (LaTeX shows "23"), "2 3": the sandbox decides
                raise _Unsupported(f"implicit product with {token!r}")
            else:
                return value

    def signed(self):
        if self.peek() in ("-", "+"):
            return -self.signed() if self.take() == "-" else self.signed()
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek() == "^":
            self.take()
            exponent = self.argument()
            if abs(exponent) > MAX_EXPONENT or (base < 0 and exponent != int(exponent)):
                raise _Unsupported("exponent")
            base = self.ctx.power(base, exponent)
        return base

    def argument(self):
        """A LaTeX macro argument: `{...}`, one digit, or `\\pi` (`\\sqrt15` is √1·5 in LaTeX: deferred)."""
        token = self.peek()
        if token is not None and token.isdigit() and len(token) > 1:
            raise _Unsupported("a multi-digit argument without braces")
        if token not in ("{", "\\pi") and not (token or "").isdigit():
            raise _Unsupported(f"argument {token!r}")
        return self.atom()

    def atom(self):
        token = self.take()
        if token.isdigit():
            return self.ctx.mpf(int(token))
        if token == "\\pi":
            return +self.ctx.pi
        if token == "\\infty":
            return self.ctx.inf
        if token in ("(", "{"):
            value = self.expr()
            self.take(")" if token == "(" else "}")
            return value
        if token in _FRAC:
            if (self.peek() or "").isdigit() and len(self.peek()) == 2:  # \frac12
                digits = self.take()
                numerator, denominator = self.ctx.mpf(int(digits[0])), self.ctx.mpf(int(digits[1]))
            else:
                numerator, denominator = self.argument(), self.argument()
            if denominator == 0:
                raise _Unsupported("division by zero")
            return numerator / denominator
        if token == "\\sqrt":
            degree = 2
            if self.peek() == "[":
                self.take()
                degree = self.expr()
                self.take("]")
            radicand = self.argument()
            if radicand < 0 or degree not in (2, 3, 4, 5):
                raise _Unsupported("root")
            return self.ctx.root(radicand, int(degree))
        raise _Unsupported(token)


def _value(tokens: list[str], ctx: mpmath.MPContext):
    reader = _Reader(tokens, ctx)
    value = reader.expr()
    if reader.peek() is not None:
        raise _Unsupported(f"trailing {reader.peek()!r}")
    return value


def _parts(tokens: list[str]) -> tuple[str, list[list[str]], str]:
    """("(", [tokens of each item], ")") for a bracketed tuple/interval whose brackets enclose it all."""
    if len(tokens) < 2 or tokens[0] not in "([" or tokens[-1] not in ")]":
        return "", [tokens], ""
    parts, depth, current = [], 0, []
    for i, token in enumerate(tokens[1:-1], start=1):
        if token in ("(", "[", "{"):
            depth += 1
        elif token in (")", "]", "}"):
            depth -= 1
            if depth < 0:
                return "", [tokens], ""  # "(1,2),(2,1)": the first bracket closes early
        if token == "," and depth == 0:
            parts.append(current)
            current = []
        else:
            current.append(token)
    parts.append(current)
    return (tokens[0], parts, tokens[-1]) if len(parts) > 1 else ("", [tokens], "")


def _same(ctx: mpmath.MPContext, a, b) -> Optional[bool]:
    """True: equal (to 1e-30, absolute for |x| >= 1, relative below); False: apart by more than 1e-10
    relative; None: too big to tell at 60 digits, or a zero against a tiny residue."""
    if ctx.isinf(a) or ctx.isinf(b):
        return a == b
    scale = max(abs(a), abs(b))
    if scale > MAX_MAGNITUDE:
        return None
    diff = abs(a - b)
    if (a == 0 or b == 0) and 0 < diff < ctx.mpf("1e-40"):
        return None  # sqrt(6)/(sqrt(2)sqrt(3)) - 1 leaves ~1e-60 here: a zero, most likely; the sandbox decides
    if diff <= ctx.mpf("1e-30") * min(1, scale):
        return True
    if diff > ctx.mpf("1e-10") * scale:
        return False
    return None


def fast_verdict(gold: str, pred: str) -> Optional[float]:
    """1.0 / 0.0 when both sides are closed-form numbers (or tuples/intervals of them) of the subset, else None."""
    if len(gold) > MAX_CHARS or len(pred) > MAX_CHARS or "." in gold + pred:
        return None
    ctx = _context()
    try:
        (g_open, g_parts, g_close), (p_open, p_parts, p_close) = _parts(_tokens(gold)), _parts(_tokens(pred))
        if len(g_parts) != len(p_parts):
            return None if len(g_parts) == 1 or len(p_parts) == 1 else 0.0
        g_values, p_values = [_value(list(t), ctx) for t in g_parts], [_value(list(t), ctx) for t in p_parts]
    except (_Unsupported, ZeroDivisionError, OverflowError, ValueError, TypeError, RecursionError):
        return None
    if len(g_parts) > 1 and (g_open, g_close) != (p_open, p_close):
        # [a, b) vs (a, b): another interval; at an infinite end the bracket is a matter of style
        return None if any(ctx.isinf(v) for v in g_values + p_values) else 0.0
    verdicts = [_same(ctx, g, p) for g, p in zip(g_values, p_values)]
    if False in verdicts:
        return 0.0
    return 1.0 if all(verdicts) else None


if __name__ == "__main__":
    print(fast_verdict(sys.argv[1], sys.argv[2]))
