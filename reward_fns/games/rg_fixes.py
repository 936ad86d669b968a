"""The holes found in reasoning-gym 0.1.25's scorers, and what the adapter does about each.

Why: a reward is only as good as its verifier; several reasoning-gym scorers give full credit to wrong
answers (found by probing every task with hedged, constant and other-puzzle answers, see
tests/unit/reward_fns/test_rg.py). The adapter keeps reasoning-gym's scorer as the reference and adds:
- REPLACED: tasks whose scorer is replaced by this project's own checker;
- FULL_CREDIT_GUARDS: an extra condition an answer must meet for full credit (else acc 0, no partial);
- tasks on reasoning-gym's default scorer (rg_worker.score) get no partial credit: it is
  `len(gold)/len(answer)` for any answer containing the gold, which rewards hedging;
- GENERATION_FILTERS: puzzles that are redrawn (their gold is no answer);
- EXCLUDED: tasks not registered at all, with the reason (tests check each reason still holds);
- EVAL_SITES: every place in reasoning-gym's source that evaluates text, and how the worker defuses it
  (tests fail if reasoning-gym gains or loses one: the audit cannot go stale).
All of this runs inside the sandbox worker (`reward_fns.games.rg_worker`).

Run: `python -m reward_fns.games.rg_fixes` prints the lists.
"""

from __future__ import annotations

import re
from collections import Counter

from reward_fns.games.base import Verdict
from reward_fns.games.safe_parse import safe_parse_expr

EXCLUDED = {
    "composite": "a mix of other tasks configured by name; use the tasks themselves",
    "boxnet": "no gold answer (answer is None): a correct answer cannot be shown to score 1",
    "graph_color": "no gold answer (answer is None): a correct answer cannot be shown to score 1",
    "propositional_logic": "no gold answer (answer is None): a correct answer cannot be shown to score 1",
    "rubiks_cube": "no gold answer (answer is None): a correct answer cannot be shown to score 1",
    "rush_hour": "no gold answer (answer is None): a correct answer cannot be shown to score 1",
}

# file (relative to the reasoning_gym package) -> what evaluates text there, and the defence.
EVAL_SITES = {
    "code/codeio.py": "exec of the dataset's own code at generation: not reached by score_answer",
    "arithmetic/gsm_symbolic/generators_00_49.py": "eval of generator constants at generation only",
    "arithmetic/gsm_symbolic/generators_50_99.py": "eval of generator constants at generation only",
    "arithmetic/basic_arithmetic.py": "eval of the generated expression at generation only",
    "arithmetic/bitwise_arithmetic.py": "eval of the (gold) problem in scoring: module eval -> int-arithmetic AST evaluator",
    "algorithmic/string_insertion.py": "eval(answer): module eval -> ast.literal_eval",
    "algorithmic/spiral_matrix.py": "eval(answer): module eval -> ast.literal_eval",
    "algorithmic/number_sorting.py": "eval(gold answer): module eval -> ast.literal_eval",
    "algorithmic/binary_matrix.py": "eval(answer): module eval -> ast.literal_eval",
    "games/n_queens.py": "eval(answer): module eval -> ast.literal_eval",
    "algebra/simple_integration.py": "sympy.parse_expr(answer) (= eval): -> whitelisted AST parser",
    "algebra/intermediate_integration.py": "sympy.parse_expr(answer) (= eval): -> whitelisted AST parser",
    "algebra/polynomial_multiplication.py": "sympy.parse_expr(answer) (= eval): -> whitelisted AST parser",
    "games/puzzle24.py": "parse_expr(answer) (= eval): scorer replaced (REPLACED)",
    "games/countdown.py": "parse_expr(answer) (= eval): scorer replaced (REPLACED)",
    "logic/propositional_logic.py": "its own recursive parser named parse_expr (no eval); task excluded anyway",
}


def _arithmetic_check(answer: str, numbers: list[int], target: int, operators) -> Verdict:
    """This project's countdown checker (exact arithmetic, each given number exactly once), with only the
    operators the question allows (`operators` knob; reasoning-gym's own scorers ignore it)."""
    from reward_fns.games.countdown import Countdown

    if any(op in answer for op in "+-*/" if op not in operators):
        return Verdict(False)
    return Countdown().check({"numbers": [int(n) for n in numbers], "target": int(target), "use_all": True}, answer)


def puzzle24(answer: str, entry: dict, config: dict) -> Verdict:
    # reasoning-gym's scorer checks "four numbers in range that make 24", not the puzzle's numbers:
    # 1*2*3*4 gets 1.0 on every puzzle. It also parses the answer with sympy's parse_expr (eval).
    return _arithmetic_check(answer, entry["metadata"]["numbers"], 24, config.get("operators", "+-*/"))


def countdown(answer: str, entry: dict, config: dict) -> Verdict:
    # reasoning-gym's scorer evaluates the answer with sympy's parse_expr (eval of model text) in floats.
    return _arithmetic_check(answer, entry["metadata"]["numbers"], entry["metadata"]["target"], config.get("operators", "+-*/"))


REPLACED = {"puzzle24": puzzle24, "countdown": countdown}

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _no_more_numbers_than_gold(answer: str, entry: dict) -> bool:
    # The scorer takes the first number/fraction/duration it finds: "12 or 57" passes for 12.
    return len(_NUMBER.findall(answer)) <= len(_NUMBER.findall(entry["answer"]))


def _no_more_words_than_gold(answer: str, entry: dict) -> bool:
    # The scorer's word-level comparison ignores extra words: "gold other words" passes.
    return len(answer.split()) <= len(entry["answer"].split())


def _same_boolean(answer: str, entry: dict) -> bool:
    # reasoning-gym compares bool(answer) == bool(gold): every non-empty answer, "False" included, passes.
    return answer.strip().lower() == str(entry["answer"]).strip().lower()


def _within_tolerance(answer: str, entry: dict) -> bool:
    # Its "prefix" partial credit divides by the shorter string: "0" gets 1.0 for every probability < 1.
    from fractions import Fraction

    try:
        return abs(Fraction(answer.replace(",", "").strip()) - Fraction(entry["answer"].replace(",", ""))) <= Fraction(1, 10**4)
    except (ValueError, ZeroDivisionError, TypeError):
        return False


def _names_once(answer: str, entry: dict) -> bool:
    # Partial credit counts matching (name, role) pairs: "Amelia is a hero and Amelia is a villain" matches
    # one pair whatever the truth, so each person must be named exactly once (full credit is unaffected).
    names = [str(n).lower() for n in entry["metadata"].get("names", [])]
    words = Counter(re.findall(r"[a-z]+", answer.lower()))
    return all(words[n] == 1 for n in names)


def _only_the_variable_and_c(answer: str, entry: dict) -> bool:
    # The scorer differentiates the answer by the variable: any term in another symbol is a "constant",
    # so "gold + any expression in y" passes. Only the variable and the constant C may appear.
    try:
        symbols = {str(s) for s in safe_parse_expr(answer).free_symbols}
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError, ZeroDivisionError):
        return False
    return symbols <= {str(entry["metadata"]["variable"]), "C"}


FULL_CREDIT_GUARDS = {
    "simple_integration": _only_the_variable_and_c,
    "intermediate_integration": _only_the_variable_and_c,
    "game_of_life_halting": _same_boolean,
    "coin_flip": _within_tolerance,
    "gsm_symbolic": _no_more_numbers_than_gold,
    "fraction_simplification": _no_more_numbers_than_gold,
    "time_intervals": _no_more_numbers_than_gold,
    "spell_backward": _no_more_words_than_gold,
    "letter_jumble": _no_more_words_than_gold,
}
PARTIAL_GUARDS = {"knights_knaves": _names_once}

# Puzzles not to hand out. intermediate_integration's gold is sometimes sympy's unevaluated
# "Integral(...)": not a solution, and its scorer (differentiate the answer, compare with the integrand)
# gives 1.0 to any answer that restates the integral; the safe parser refuses Integral, so such golds
# could not score either.
GENERATION_FILTERS = {"intermediate_integration": lambda entry: "Integral" not in str(entry["answer"])}


if __name__ == "__main__":
    for title, table in (("excluded", EXCLUDED), ("text-evaluating code", EVAL_SITES)):
        print(f"== {title}")
        for key, why in table.items():
            print(f"  {key}: {why}")
    print("== replaced scorers:", sorted(REPLACED))
    print("== full-credit guards:", sorted(FULL_CREDIT_GUARDS), " partial-credit guards:", sorted(PARTIAL_GUARDS))
