"""Labelled (gold, response, expected correct?) pairs for the math checker, written by hand.

Families built in loops take their labels from exact `fractions.Fraction` arithmetic, never from the
checker. Categories: latex, fractions, decimals, percent, intervals, sets, units, equations,
expressions, extraction, traps, multiple_choice, closed_forms and more; the `mv_*` categories are
Math-Verify's own labelled cases (`math_verify_cases.py`, sources cited there).
"""

from fractions import Fraction

from tests.unit.reward_fns import math_verify_cases


def boxed(answer: str) -> str:
    return f"Let me work through it step by step.\nSo the final result is $\\boxed{{{answer}}}$."


CASES: list[tuple[str, str, str, bool]] = []  # (category, gold, response, expected)


def add(category: str, gold: str, answer: str, expected: bool, response: str | None = None):
    CASES.append((category, gold, response if response is not None else boxed(answer), expected))


# -- LaTeX forms of the same value -------------------------------------------------------------------
for gold, answer in [
    ("\\frac{1}{2}", "\\dfrac{1}{2}"), ("\\frac{1}{2}", "\\tfrac12"), ("\\frac{1}{2}", "1/2"), ("\\frac{1}{2}", "\\frac{2}{4}"),
    ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}"), ("2\\sqrt{3}", "\\sqrt{12}"), ("\\frac{\\pi}{2}", "\\pi/2"),
    ("e^{2}", "\\exp(2)"), ("10^{3}", "1000"), ("1000", "1,000"), ("1000000", "10^6"), ("1000000", "1e6"),
    ("(x+1)^2", "x^2+2x+1"), ("-\\frac{1}{2}", "\\frac{-1}{2}"), ("2+3i", "3i+2"), ("\\binom{5}{2}", "10"),
    ("120", "5!"), ("\\sqrt{16}", "4"), ("\\left(\\frac{1}{3}\\right)", "\\frac13"), ("3\\sqrt{2}", "\\sqrt{18}"),
    ("\\frac{7}{3}", "2\\frac{1}{3}") if False else ("\\frac{7}{3}", "\\frac{14}{6}"), ("4", "2+2"), ("2", "2.0"),
    ("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}"), ("1-\\frac{1}{e}", "\\frac{e-1}{e}"), ("2^{10}", "1024"),
]:
    add("latex", gold, answer, True)
for gold, answer in [
    ("\\frac{1}{2}", "\\frac{1}{3}"), ("2\\sqrt{3}", "3\\sqrt{2}"), ("\\frac{\\pi}{2}", "\\pi"), ("(x+1)^2", "x^2+1"),
    ("-5", "5"), ("12", "21"), ("2", "2.00001"), ("\\sqrt{2}", "2"), ("e^{2}", "2e"), ("10^{3}", "10^{4}"),
]:
    add("latex", gold, answer, False)

# -- fractions and decimals: labels from exact Fraction arithmetic ------------------------------------
for num, den in [(1, 4), (3, 8), (5, 16), (7, 20), (9, 25), (1, 5), (3, 40), (11, 50), (13, 8), (17, 4)]:
    exact = Fraction(num, den)
    decimal = f"{num / den:.10g}"  # terminating decimals: exact
    add("fractions", f"\\frac{{{num}}}{{{den}}}", decimal, Fraction(decimal) == exact)
    add("fractions", decimal, f"\\frac{{{num}}}{{{den}}}", Fraction(decimal) == exact)
    add("fractions", f"\\frac{{{num}}}{{{den}}}", f"\\frac{{{num * 3}}}{{{den * 3}}}", True)
    add("fractions", f"\\frac{{{num}}}{{{den}}}", f"\\frac{{{num + 1}}}{{{den}}}", Fraction(num + 1, den) == exact)
for num, den in [(1, 3), (2, 3), (1, 7), (5, 6), (4, 9)]:  # repeating decimals
    add("decimals", f"\\frac{{{num}}}{{{den}}}", f"{num / den:.6f}", True)  # correctly rounded to 6 places
    add("decimals", f"\\frac{{{num}}}{{{den}}}", f"{num / den:.2f}", False)  # 2 places is not the answer
    add("decimals", f"\\frac{{{num}}}{{{den}}}", f"{num / den + 0.001:.6f}", False)
for gold, answer, ok in [("0.5", "0.50", True), ("3.75", "\\frac{15}{4}", True), ("0.1", "0.01", False), ("2.5", "2.05", False), ("-0.25", "-\\frac14", True)]:
    add("decimals", gold, answer, ok)

# -- percent ------------------------------------------------------------------------------------------
for gold, answer, ok in [
    ("50\\%", "50\\%", True), ("50\\%", "50", True), ("50\\%", "0.5", True), ("25\\%", "\\frac14", True),
    ("0.25", "25\\%", True), ("12.5\\%", "12.5", True), ("50\\%", "5", False), ("50\\%", "0.05", False),
    ("75\\%", "0.7", False), ("20\\%", "20 \\%", True),
]:
    add("percent", gold, answer, ok)

# -- intervals ----------------------------------------------------------------------------------------
for gold, answer, ok in [
    ("(0,1]", "(0, 1]", True), ("[2,\\infty)", "[2, \\infty)", True), ("(0,1)", "[0,1]", False),
    ("(-\\infty, 0) \\cup (1, \\infty)", "(-\\infty,0)\\cup(1,\\infty)", True), ("(0,1]", "[0,1)", False),
    ("[-1, 1]", "[-1,1]", True), ("(1,2)", "(1,3)", False), ("(-\\infty, 3]", "(-\\infty,3]", True),
    ("(-\\infty, 3]", "(-\\infty,3)", False), ("[0, \\frac{1}{2}]", "[0, 0.5]", True),
]:
    add("intervals", gold, answer, ok)

# -- sets and tuples ----------------------------------------------------------------------------------
for gold, answer, ok in [
    ("\\{1,2,3\\}", "\\{3,2,1\\}", True), ("\\{1,2\\}", "\\{1,2,3\\}", False), ("\\{-1, 1\\}", "\\{1,-1\\}", True),
    ("\\{2\\}", "\\{2, 2\\}", True), ("(1,2)", "(1, 2)", True), ("(1,2)", "(2,1)", False),
    ("\\{\\frac12, 2\\}", "\\{2, 0.5\\}", True), ("\\{0\\}", "\\emptyset", False), ("(3, -4)", "(3,-4)", True),
    ("\\{1, 3, 5\\}", "\\{1, 3\\}", False),
]:
    add("sets", gold, answer, ok)

# -- units --------------------------------------------------------------------------------------------
for gold, answer, ok in [
    ("10", "10 \\text{ cm}", True), ("5", "5\\,\\mathrm{m}", True), ("90", "90^\\circ", True), ("90^\\circ", "90", True),
    ("12", "12 \\text{ apples}", True), ("3.5", "3.5\\text{ hours}", True), ("10", "100 \\text{ cm}", False),
    ("45", "45^{\\circ}", True), ("7", "7\\text{ dollars}", True), ("60", "6 \\text{ minutes}", False),
]:
    add("units", gold, answer, ok)

# -- equations ----------------------------------------------------------------------------------------
for gold, answer, ok in [
    ("x=2", "2", True), ("3", "x=3", True), ("x = 3", "x=3", True), ("y=2x+1", "y = 1 + 2x", True),
    ("y=2x+1", "2x+1", True), ("x=2", "x=3", False), ("a=1,b=2", "a=1, b=2", True), ("y=2x+1", "y=2x-1", False),
    ("x^2+y^2=1", "y^2+x^2=1", True), ("x=5", "5.0", True),
]:
    add("equations", gold, answer, ok)

# -- plain-text expressions (no LaTeX) ----------------------------------------------------------------
for gold, answer, ok in [
    ("\\sqrt{2}/2", "sqrt(2)/2", True), ("3\\pi", "3*pi", True), ("\\frac{\\sqrt{2}}{2}", "1/sqrt(2)", True),
    ("4", "2^2", True), ("8", "2**3", True), ("\\pi", "3.14", False), ("9", "3^3", False), ("1/3", "0.333333", True),
    ("2\\pi", "6.28", False), ("\\frac{1}{4}", "1/4", True),
]:
    add("expressions", gold, answer, ok)

# -- extraction: where the answer is, and when there is none ------------------------------------------
for gold, response, ok in [
    ("42", "First I thought \\boxed{41}, but rechecking, the answer is \\boxed{42}.", True),
    ("41", "First I thought \\boxed{41}, but rechecking, the answer is \\boxed{42}.", False),
    ("\\frac{1}{2}", "Hence $\\boxed{\\frac{1}{2}}$.", True),
    ("42", "The answer is 42.", True),
    ("42", "Final Answer: 42", True),
    ("42", "**Final answer:** 42", True),
    ("42", "I am not sure.", False),
    ("42", "", False),
    ("42", "\\boxed{}", False),
    ("42", "The answer is \\boxed 42", True),
    ("\\{1,2\\}", "so $\\boxed{\\{1, 2\\}}$", True),
    ("42", "\\fbox{42}", True),
    ("5", "We get x = 5. Answer: $5$.", True),
    ("5", "Answer: 6", False),
    ("7", "\\boxed{7} is wrong; correct: \\boxed{8}", False),
    ("10", "\\boxed{\\frac{20}{2}}", True),
    ("10", "The answer is $\\boxed{10}$" + " filler" * 10, True),
    ("x^2", "so \\boxed{x^{2}}", True),
    ("2", "The answer is \\boxed{{2}}", True),
    ("3", "\\boxed{3", False),  # unbalanced box: no answer
]:
    add("extraction", gold, None, ok, response=response)

# -- known traps of math-verify and of sloppy graders -------------------------------------------------
for gold, answer, ok in [
    ("\\frac{1}{2^{99}}", "\\frac{1}{2^{98}}", False), ("\\frac{1}{2^{99}}", "2^{-99}", True),
    ("1728", "1331 \\text{ and } 1728", False), ("1728", "1331, 1728", False), ("1728", "1728", True),
    ("1-\\frac{1}{e}", "1+\\frac{1}{e}", False), ("1-\\frac{1}{e}", "1-e^{-1}", True),
    ("0", "0.0000001", False), ("10^{-10}", "0", False), ("10^{-10}", "10^{-11}", False), ("\\pi", "3.14159", False),
    ("1000000", "999999", False), ("2^{100}", "2^{99}", False), ("-1", "1", False),
]:
    add("traps", gold, answer, ok)
for gold, response, ok in [
    ("73", "The answer is **73**", True),
    ("73", "**Answer: 73**", True),
    ("1728", "The numbers are 1331 and 1728.\nAnswer: 1331 and 1728", False),
    ("73", "The answer is **37**", False),
]:
    add("traps", gold, None, ok, response=response)

# -- multiple choice ----------------------------------------------------------------------------------
for gold, answer, ok in [("A", "\\text{(A)}", True), ("B", "\\text{B}", True), ("C", "D", False), ("(B)", "B", True), ("E", "\\textbf{(E)}", True)]:
    add("multiple_choice", gold, answer, ok)

# -- integers as competition answers --------------------------------------------------------------------
for gold, answer, ok in [
    ("73", "073", True), ("5", "-5", False), ("100", "10^2", True), ("100", "1e2", True), ("0", "-0", True),
    ("2024", "2,024", True), ("17", "\\mathbf{17}", True), ("17", "17.5", False), ("3", "\\sqrt{9}", True),
    ("999", "1000-1", True), ("12", "\\frac{24}{2}", True), ("12", "\\frac{24}{3}", False),
]:
    add("integers", gold, answer, ok)

# -- answer styles models produce that the first corpus missed (found against outside cases) --------------
# Upright constants: math-verify drops \mathrm{...}, which once made 1, 2 and 1 + 1/e "equal" 1 - 1/e.
for gold, answer, ok in [
    ("1 - \\frac{1}{\\mathrm{e}}", "1", False), ("1 - \\frac{1}{\\mathrm{e}}", "1 + \\frac{1}{\\mathrm{e}}", False),
    ("1 - \\frac{1}{\\mathrm{e}}", "1 - \\frac{1}{e}", True), ("1 - \\frac{1}{e}", "1 - \\frac{1}{\\mathrm{e}}", True),
    ("2\\mathrm{e}", "2", False), ("2\\mathrm{e}", "2e", True), ("\\mathrm{e}^{2}", "e^2", True), ("\\mathrm{e}^{2}", "2", False),
    ("3\\mathrm{i}", "3", False), ("3\\mathrm{i}", "3i", True), ("1+\\mathrm{i}", "1+i", True), ("1+\\mathrm{i}", "1", False),
    ("\\operatorname{e}", "e", True),
]:
    add("upright", gold, answer, ok)
# Percent as models write it (28%, 28 percent) against a LaTeX gold (28\%).
for gold, answer, ok in [
    ("28\\%", "28%", True), ("28\\%", "28 percent", True), ("28\\%", "28\\%", True), ("28\\%", "0.28", True),
    ("28\\%", "29%", False), ("28\\%", "2.8%", False), ("12.5\\%", "12.5%", True), ("12.5\\%", "\\frac{1}{8}", True),
]:
    add("percent", gold, answer, ok)
# Currency: an escaped dollar sign is the unit, not math mode.
for gold, answer, ok in [
    ("16386.20", "\\$16,386.20", True), ("5", "\\$5", True), ("5", "\\$5.00", True), ("5", "\\$6", False),
    ("\\$1,250", "1250", True), ("\\$1,250", "\\$1,205", False), ("0.75", "\\$0.75", True),
]:
    add("currency", gold, answer, ok)
# Lists vs thousands: "32,349" groups thousands; "32, 349" (comma and space) is a list of two numbers.
for gold, answer, ok in [
    ("32349", "32, 349", False), ("3, 100", "3100", False), ("32349", "32,349", True), ("3, 100", "3, 100", True),
    ("3, 100", "100, 3", True), ("1000000", "1,000,000", True),
]:
    add("lists", gold, answer, ok)
# Several boxes: the boxes of the final answer, joined; a hedge between answers is not the single gold.
for gold, response, ok in [
    ("(1,2),(2,1)", "So the solutions are $\\boxed{(1, 2)}, \\boxed{(2, 1)}$.", True),
    ("1,2", "Hence $x = \\boxed{1}$ and $x = \\boxed{2}$.", True),
    ("1,2", "The roots are \\boxed{1} and \\boxed{2}.", True),
    ("2", "The roots are \\boxed{1} and \\boxed{2}.", False),
    ("2", "It could be \\boxed{1} or \\boxed{2}.", False),
    ("3", "First \\boxed{5}. On second thought the answer is \\boxed{3}.", True),
    ("\\{-1, 3\\}", "\\boxed{-1}, \\boxed{3}", True),
]:
    add("several_boxes", gold, None, ok, response=response)
# Matrices and intervals in the forms models write them.
for gold, answer, ok in [
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", True),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&2\\\\4&3\\end{pmatrix}", False),
    ("[-3, 2]", "[-3,2]", True), ("[-3, 2]", "(-3, 2)", False), ("(-\\infty, 5]", "(-\\infty,5]", True),
]:
    add("intervals", gold, answer, ok)
# Closed forms that need evaluation (identities from the literature, not from the checker): equal values
# in forms math-verify cannot transform into each other, and near misses that agree to many digits.
for gold, answer, ok in [
    ("-\\frac{1}{2}", "\\cos\\frac{2\\pi}{7}+\\cos\\frac{4\\pi}{7}+\\cos\\frac{6\\pi}{7}", True),  # sum of cos(2πk/7)
    ("\\cos\\frac{2\\pi}{7}+\\cos\\frac{4\\pi}{7}+\\cos\\frac{6\\pi}{7}", "-\\frac{1}{2}", True),
    ("\\frac{1}{8}", "\\cos\\frac{\\pi}{7}\\cos\\frac{2\\pi}{7}\\cos\\frac{3\\pi}{7}", True),  # Morrie-type product
    ("\\frac{\\sqrt{6}+\\sqrt{2}}{4}", "\\cos\\frac{\\pi}{12}", True), ("\\sqrt{2}-1", "\\tan\\frac{\\pi}{8}", True),
    ("\\pi", "\\frac{355}{113}", False),  # Zu Chongzhi's ratio: 7 digits
    ("640320^{3}+744", "e^{\\pi\\sqrt{163}}", False),  # Ramanujan's constant: an integer to 12 digits, not one
    ("\\sqrt{2}", "\\frac{665857}{470832}", False),  # a Pell convergent: 12 digits
]:
    add("closed_forms", gold, answer, ok)
# Big numbers one apart: relative tolerances cannot tell them apart, exact or digit-scaled comparison can.
for gold, answer, ok in [
    ("2^{2023}", "2^{2023}-1", False), ("2^{100}", "2^{100}-1", False), ("10^{40}", "10^{40}+1", False),
    ("1267650600228229401496703205376", "2^{100}+1", False), ("1267650600228229401496703205376", "2^{100}", True),
    ("\\frac{2^{200}+1}{3}", "\\frac{2^{200}-2}{3}", False), ("2^{100}\\sqrt{2}", "2^{100}\\sqrt{2}+1", False),
    ("2^{100}\\sqrt{2}", "\\sqrt{2^{201}}", True), ("0", "\\frac{\\sqrt{6}}{\\sqrt{2}\\sqrt{3}}-1", True),
]:
    add("big_numbers", gold, answer, ok)
# Thinking responses: only the answer after the think block counts; an unfinished block has none.
for gold, response, ok in [
    ("7", "<think>2+3 = \\boxed{5}, no wait</think> The answer is \\boxed{7}.", True),
    ("5", "<think>2+3 = \\boxed{5}, no wait</think> The answer is \\boxed{7}.", False),
    ("5", "<think>Let me see, 2+3 = \\boxed{5} so far and then", False),
    ("5", "<|begin_of_thought|>2+3=5<|end_of_thought|><|begin_of_solution|>\\boxed{5}<|end_of_solution|>", True),
]:
    add("thinking", gold, None, ok, response=response)
# Outside cases: Math-Verify's own labelled tests (several boxes, final-answer lines, thinking traces, golds in boxes).
CASES += math_verify_cases.CASES
# Symbolic series (sums with a free bound) against closed forms: Gauss's sum and the sum of squares, and wrong ones.
for gold, answer, ok in [
    ("\\frac{n(n+1)}{2}", "\\sum_{k=1}^{n} k", True), ("\\frac{n(n-1)}{2}", "\\sum_{k=1}^{n} k", False),
    ("\\sum_{k=1}^{n} k^2", "\\frac{n(n+1)(2n+1)}{6}", True), ("\\sum_{k=1}^{n} k^2", "\\frac{n^2(n+1)^2}{4}", False),
]:
    add("series", gold, answer, ok)
