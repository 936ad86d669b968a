"""Hostile inputs: every call returns (no hang, no crash) with score 0, and no input gets executed.

The per-call bound checked here is loose (BOUND_S) so that a busy CI machine cannot make it flaky;
`bench/rewards.py` measures the actual worst-case latency on the same set. The sandbox is started (and
warmed) before the timed calls, as in the benchmark.
"""

import json
import time
from pathlib import Path

import pytest

from reward_fns import compute_score

BOUND_S = 5.0
SENTINEL = Path("/tmp/pear_verl_hostile_sentinel")
TOUCH = f"__import__('os').system('touch {SENTINEL}')"
COUNTDOWN = json.dumps({"numbers": [3, 7, 9, 25], "target": 100, "use_all": True})
SUDOKU = json.dumps({"size": 4, "grid": "1.3..4..2..4.1.2", "solution": "1234341221434321"})
MAZE = json.dumps({"grid": ["...", ".#.", "..."], "start": [0, 0], "goal": [2, 2], "shortest": 4})
KK = json.dumps({"people": ["Alice", "Bob"], "statements": [["Alice", ["is", "Bob", "knave"]], ["Bob", ["same", "Alice", "Bob"]]], "solution": {"Alice": "knight", "Bob": "knave"}})
CRYPT = json.dumps({"words": ["AB", "AB"], "result": "CA", "hints": {}, "solution": {"A": 2, "B": 6, "C": 5}})
MB = 2**20


def box(s):
    return f"\\boxed{{{s}}}"


def ans(s):
    return f"<answer>{s}</answer>"


HOSTILE = [
    # -- math: huge numbers and slow symbolic work
    ("math", box("9^{9^{9^{9}}}"), "1"),
    ("math", box("1000000!"), "1"),
    ("math", box("10^{10^{10}}"), "1"),
    ("math", box("2**2**2**2**2**2"), "1"),
    ("math", box("2^{2^{2^{2^{2^{2}}}}}"), "1"),
    ("math", box("10!!!!!!"), "1"),
    ("math", box("\\sqrt[1000000]{2}"), "1"),
    ("math", box("\\prod_{k=1}^{10^{9}} k"), "1"),
    ("math", box("\\sum_{n=1}^{\\infty} n"), "1"),
    ("math", box("\\int_0^\\infty e^{-x^{999}} dx"), "1"),
    ("math", box("x^{x^{x^{x}}}"), "1"),
    ("math", box("\\infty^\\infty"), "1"),
    ("math", box("1e999999"), "1"),
    ("math", box("1/(x-x)"), "1"),
    ("math", box("\\frac{1}{0}"), "1"),
    ("math", box("nan"), "1"),
    ("math", box("\\frac{" * 150 + "1" + "}{2}" * 150), "1"),
    ("math", "1" * 999 + "!", "1"),
    # -- math: code injection attempts (must never run)
    ("math", box(TOUCH), "2"),
    ("math", box("().__class__.__bases__[0].__subclasses__()"), "2"),
    ("math", box('eval("1+1")'), "2"),
    ("math", box("exec('import os')"), "2"),
    ("math", box("lambda: 0"), "2"),
    ("math", f"Answer: {TOUCH}", "2"),
    ("math", box(f"\\mathrm{{{TOUCH}}}"), "2"),
    ("math", box("\\text{\\input{/etc/passwd}}"), "2"),
    ("math", box("\\def\\x{\\x}\\x"), "2"),
    # -- math: size and nesting
    ("math", "(" * 100_000 + "1" + ")" * 100_000, "1"),
    ("math", box("(" * 5000 + "1" + ")" * 5000), "1"),
    ("math", "\\boxed{" * 10_000, "1"),
    ("math", "{" * 100_000 + box("2"), "1"),
    ("math", "a" * MB, "1"),
    ("math", box("1") * 50_000 + box("2"), "1"),
    ("math", box("\\begin{pmatrix}" + " & ".join(["1"] * 400) + "\\end{pmatrix}"), "1"),
    # -- math: floods aimed at the extraction rules (thinking, joined boxes, final-answer statements)
    ("math", "<think>" * 100_000 + box("1"), "1"),  # unfinished thinking: no answer
    ("math", box("1") + " and " + box("1") + ", " + "\\quad ".join([box("1")] * 50_000), "1"),  # > 16 joined boxes
    ("math", box("2") + " Final answer: " * 50_000 + "1", "2"),  # the last statement (1) is the answer
    ("math", "The final answer is $" + "1 $ and $" * 30_000, "1"),
    # -- math: look-alikes and odd characters
    ("math", box("l2"), "12"),
    ("math", box("1O"), "10"),
    ("math", box("\u0412"), "B"),  # Cyrillic Ve looks like B
    ("math", box("\u22125"), "5"),  # minus sign: -5
    ("math", "\x00" + box("1") + "\x00", "2"),
    ("math", box("\ud800"), "2"),  # lone surrogate
    # -- wrong types
    ("math", None, "1"),
    ("math", 12, "12"),
    ("math", b"\\boxed{1}", "1"),
    ("math", ["\\boxed{1}"], "1"),
    ("math", {"a": 1}, "1"),
    ("math", box("1"), None),
    ("math", box("1"), ["1"]),
    (None, box("1"), "2"),
    (42, box("1"), "2"),
    # -- games
    ("game/countdown", ans("9**9**9**9"), COUNTDOWN),
    ("game/countdown", ans(TOUCH), COUNTDOWN),
    ("game/countdown", ans("*".join(["(1)"] * 10_000)), COUNTDOWN),
    ("game/countdown", ans("*".join(["99999999999"] * 20)), COUNTDOWN),
    ("game/countdown", ans("(" * 140 + "1" + ")" * 140), COUNTDOWN),
    ("game/countdown", ans("1/0"), COUNTDOWN),
    ("game/countdown", "<answer>" * 100_000, COUNTDOWN),
    ("game/countdown", "<think><answer>25 * (7 - 9 / 3)</answer>" * 1000, COUNTDOWN),  # right, but inside the thinking
    ("game/countdown", ans("(25-9-3)*7+9"), "not json"),
    ("game/countdown", ans("1+1"), json.dumps({"numbers": "oops"})),
    ("game/game24", ans("9" * 5000), json.dumps({"numbers": [1, 2, 3, 4], "target": 24, "use_all": True})),
    ("game/sudoku", ans("1" * MB), SUDOKU),
    ("game/sudoku", ans("\u0661\u0662\u0663\u0664" * 4), SUDOKU),  # Arabic-Indic digits
    ("game/maze", ans("R" * MB), MAZE),
    ("game/maze", ans("R" * 1999), MAZE),
    ("game/knights_knaves", ans("Alice " * 300 + "knight"), KK),
    ("game/cryptarithm", ans("A=1, " * 390), CRYPT),
    ("game/cryptarithm", ans("<answer>" * 200 + "A=2"), CRYPT),
    ("game/not_a_game", ans("1"), "{}"),
]


@pytest.fixture(autouse=True, scope="module")
def no_sentinel():
    SENTINEL.unlink(missing_ok=True)
    # start the math sandbox before timing: its zygote warms the checker once per process (seconds), which is
    # startup, not the per-call bound tested here (and an honest answer is needed to know it runs)
    assert compute_score("math", "\\boxed{\\sin\\frac{\\pi}{6}}", "\\frac{1}{2}")["acc"] == 1.0
    yield
    assert not SENTINEL.exists(), "a hostile input was executed"


def test_the_set_is_large():
    assert len(HOSTILE) >= 50


@pytest.mark.parametrize("data_source,response,ground_truth", HOSTILE, ids=[f"{i}" for i in range(len(HOSTILE))])
def test_hostile(data_source, response, ground_truth):
    start = time.monotonic()
    result = compute_score(data_source=data_source, solution_str=response, ground_truth=ground_truth)
    assert time.monotonic() - start < BOUND_S
    assert result["score"] == 0.0 and result["acc"] == 0.0, result
    assert set(result) == {"score", "acc", "format_ok", "pred", "error"}
