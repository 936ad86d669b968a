"""GRPO-shaped math batches whose golds come from Math-Verify's own test suite: 40 golds x 16 samples.

Why: `bench/grpo_math_batch.py` draws MATH-style golds (numbers, radicals, intervals) that the in-process
fast paths mostly decide. Golds from another project's labelled cases take every form — equations, sets,
relations, sums, units, several parts, thinking traces — so most distinct answers reach the sandbox: this
batch measures the cost of a cache miss where it matters.

Per gold (a case of `tests/unit/reward_fns/math_verify_cases.py`, cited there): the case's own response
(labelled as Math-Verify labels it) and one to three wrong answers taken from other cases (their boxed
answers, after the same reasoning text), drawn like `grpo_math_batch`: a success rate in [0.1, 0.9], the
popular wrong answer first (weights 6:3:1). A borrowed answer is labelled wrong; `bench/rewards.py` prints
each scorer's agreement with the labels, so a borrowed answer that happened to be right would show there.
Used by `bench/rewards.py`.
"""

from __future__ import annotations

import random

from reward_fns.math_answer import gold_answer
from tests.unit.reward_fns.math_verify_cases import CASES

REASONING = "Let us compute carefully. " * 80  # ~2,000 characters of chain of thought


def outside_batch(seed: int, prompts: int = 40, samples: int = 16) -> list[tuple[str, str, bool]]:
    """(gold, response, correct?) for `prompts` x `samples` responses, golds drawn from Math-Verify's cases."""
    rng = random.Random(seed)
    cases = rng.sample(CASES, prompts)
    answers = [gold_answer(g) for _, g, _, _ in CASES]
    batch = []
    for _, gold, response, ok in cases:
        own = gold_answer(gold)
        wrong = [a for a in rng.sample(answers, 6) if a != own][: rng.randint(1, 3)]
        p_own = rng.uniform(0.1, 0.9)
        for _ in range(samples):
            if rng.random() < p_own:
                batch.append((gold, response, ok))
            else:
                answer = rng.choices(wrong, weights=[6, 3, 1][: len(wrong)])[0]
                batch.append((gold, f"{REASONING}\\boxed{{{answer}}}", False))
    return batch
