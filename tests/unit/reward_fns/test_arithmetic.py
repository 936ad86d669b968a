"""The safe arithmetic evaluator: exact values, used numbers, and everything else rejected."""

from fractions import Fraction

import pytest

from reward_fns.games.arithmetic import ArithmeticRejected, evaluate


@pytest.mark.parametrize(
    "text,value,numbers",
    [
        ("(25 - 5) * 4", Fraction(80), [25, 5, 4]),
        ("8 / 3 * 3", Fraction(8), [8, 3, 3]),
        ("-3 + 10", Fraction(7), [3, 10]),
        ("6 × 7", Fraction(42), [6, 7]),
        ("9 ÷ 3 − 1", Fraction(2), [9, 3, 1]),
        ("[2 + 3] * {4}", Fraction(20), [2, 3, 4]),
        ("1 / 3 + 1 / 6", Fraction(1, 2), [1, 3, 1, 6]),
        ("5 \\times 5", Fraction(25), [5, 5]),
    ],
)
def test_values_are_exact(text, value, numbers):
    result = evaluate(text)
    assert result.value == value and result.numbers == numbers


@pytest.mark.parametrize(
    "text",
    ["2 ** 10", "2 ^ 3", "__import__('os')", "abs(-1)", "1 if 1 else 2", "x + 1", "1.5 * 2", "", "   ", "1 / 0",
     "(1 - 1) / (2 - 2)", "9" * 400, "*".join(["999999"] * 4), "(" * 200 + "1" + ")" * 200, "[1, 2]", "1; 2", "0x1F", "05 + 1"],
)
def test_rejected(text):
    with pytest.raises(ArithmeticRejected):
        evaluate(text)


def test_non_strings_rejected():
    for value in (None, 12, b"1+1", ["1"]):
        with pytest.raises(ArithmeticRejected):
            evaluate(value)
