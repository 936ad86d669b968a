"""Benchmark the reward checkers: throughput on typical outputs, worst-case latency on hostile ones.

- math, GRPO-shaped: 64 prompts x 16 samples with MATH-style golds and repeated answers
  (`bench/grpo_math_batch.py`), a new batch per repeat, ours vs math-verify called in-process and verl's
  default MATH scorer (`default_compute_score("lighteval/MATH", ...)`) and its math-verify scorer, in
  one run, each with its agreement with the labels; then 40 prompts x 16 samples whose golds come from
  Math-Verify's own tests (`bench/grpo_outside_batch.py`: most distinct answers miss the fast paths), ours
  vs math-verify in-process. Goal: >= 3x math-verify's throughput on both;
- math: typical responses (a long chain of thought ending in \\boxed{}; the labelled corpus answers),
  ours vs verl's own math-verify scorer (`verl.utils.reward_score.math_verify`) on the same inputs,
  in the same run, with both scorers' agreement with the corpus labels;
- games: solver answers and corrupted ones for every built-in game;
- reasoning-gym: gold answers and other puzzles' golds for every rg/<task> game (when installed);
- hostile: the worst latency over `tests/unit/reward_fns/test_hostile.py`'s cases.
Goals: >= 200 math checks/s/core, >= 5,000 game checks/s/core, worst case <= 1 s.
One calling thread: the checking runs on one core at a time (the caller or one sandbox worker).

Run: `.venv/bin/python bench/rewards.py [--repeats 3] [--only grpo]`
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.grpo_math_batch import grpo_batch  # noqa: E402
from bench.grpo_outside_batch import outside_batch  # noqa: E402
from reward_fns import compute_score, math_answer  # noqa: E402
from reward_fns.games import BUILTIN_GAMES, get_game  # noqa: E402
from tests.unit.reward_fns.math_corpus import CASES  # noqa: E402
from tests.unit.reward_fns.test_hostile import HOSTILE  # noqa: E402

REASONING = "Let us compute carefully. " * 80  # ~2,000 characters of chain of thought


def typical_math_inputs(n=400, seed=0):
    """AIME-style integer golds; answers: 40% right, 35% a wrong integer, 10% right in another form
    (fraction, decimal, LaTeX), 15% a wrong expression. Labels follow from the construction."""
    rng = random.Random(seed)
    items = []
    for _ in range(n):
        k = rng.randint(1, 999)
        u = rng.random()
        if u < 0.40:
            answer, ok = str(k), True
        elif u < 0.75:
            answer, ok = str(k + rng.randint(1, 50)), False
        elif u < 0.85:
            answer, ok = rng.choice([f"\\frac{{{2 * k}}}{{2}}", f"{k}.0", f"{k}^{{1}}", f"\\sqrt{{{k * k}}}"]), True
        else:
            answer, ok = rng.choice([f"\\frac{{{k}}}{{3}}", f"\\sqrt{{{k}}}+1", f"{k}\\pi", f"2^{{{k % 30 + 2}}}+{k}"]), False
        items.append((str(k), REASONING + f"\\boxed{{{answer}}}", ok))
    return items


def corpus_inputs():
    """The labelled corpus, hand-written responses after ~2K characters of reasoning; Math-Verify's cases
    (`mv_*`) as they are (real outputs: some are a bare formula, which reasoning in front would change)."""
    return [(gold, response if category.startswith("mv_") else REASONING + response, ok) for category, gold, response, ok in CASES]


def rate(fn, items, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        for item in items:
            fn(*item)
    return repeats * len(items) / (time.perf_counter() - start)


def math_verify_in_process(gold: str, response: str, ok: bool) -> float:
    """math-verify as its README shows it: parse both sides, verify (its own SIGALRM timeouts)."""
    from math_verify import parse, verify

    return float(verify(parse(f"${gold}$"), parse(response)))


def math_verify_raw(gold: str, response: str, ok: bool) -> float:
    """math-verify on golds written as its own tests write them (`$...$`, `\\boxed{}`, whole solutions)."""
    from math_verify import parse, verify

    return float(verify(parse(gold if "$" in gold or "\\" in gold else f"${gold}$"), parse(response)))


def grpo_shaped(scorers: dict, repeats: int, make_batch=grpo_batch, title: str = "MATH-style golds, 64 prompts x 16 samples") -> None:
    batches = [make_batch(seed) for seed in range(repeats)]
    distinct = sum(len({(g, r) for g, r, _ in b}) for b in batches) / repeats
    print(f"math, GRPO-shaped ({title}): {repeats} batches of {len(batches[0])} responses, "
          f"{distinct:.0f} distinct (gold, answer) pairs per batch on average")
    seconds = {name: 0.0 for name in scorers}
    right = {name: 0 for name in scorers}
    for batch in batches:  # interleaved: each scorer sees each batch once, all in one run
        for name, fn in scorers.items():
            if name == "reward_fns":
                math_answer._VERDICTS = math_answer._Verdicts()  # a new RL step: nothing cached from the last
            start = time.perf_counter()
            verdicts = [fn(*item) for item in batch]
            seconds[name] += time.perf_counter() - start
            right[name] += sum((v == 1.0) == ok for v, (_, _, ok) in zip(verdicts, batch))
    total = repeats * len(batches[0])
    for name in scorers:
        ratio = seconds["math-verify in-process"] / seconds[name]
        print(f"  {name:24s} {total / seconds[name]:8.0f} checks/s  x{ratio:5.2f} of math-verify   "
              f"agrees with labels on {right[name]}/{total}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["grpo"], help="only the two GRPO-shaped math batches")
    args = parser.parse_args()

    from verl.utils.reward_score import default_compute_score
    from verl.utils.reward_score.math_verify import compute_score as verl_math

    ours = lambda gold, response, ok: compute_score("math", response, gold)["acc"]  # noqa: E731
    baseline = lambda gold, response, ok: verl_math(response, gold)  # noqa: E731
    verl_default = lambda gold, response, ok: float(default_compute_score("lighteval/MATH", response, gold))  # noqa: E731
    ours("\\frac{1}{2}", "\\boxed{\\sin\\frac{\\pi}{6}}", True)  # start both sandboxes before timing (no fast path)
    baseline("2", "\\boxed{1}", False)
    math_verify_in_process("2", "\\boxed{1}", False)
    grpo_shaped({"reward_fns": ours, "math-verify in-process": math_verify_in_process,
                 "verl default (MATH)": verl_default, "verl math_verify": baseline}, args.repeats)
    grpo_shaped({"reward_fns": ours, "math-verify in-process": math_verify_raw}, args.repeats, outside_batch,
                "golds of Math-Verify's tests, 40 prompts x 16 samples")
    if args.only == "grpo":
        return
    for label, inputs in (("typical (AIME-style mix)", typical_math_inputs()), ("hard (labelled corpus)", corpus_inputs())):
        print(f"math, {label}: {len(inputs)} responses x {args.repeats}")
        rates = {}
        for name, fn in (("reward_fns", ours), ("verl math_verify", baseline)):
            rates[name] = rate(fn, inputs, args.repeats)
            right = sum((fn(g, r, ok) == 1.0) == ok for g, r, ok in inputs)
            print(f"  {name:18s} {rates[name]:8.0f} checks/s   agrees with labels on {right}/{len(inputs)}")
        print(f"  throughput ratio reward_fns/verl: {rates['reward_fns'] / rates['verl math_verify']:.2f}   (goal: >= 200 checks/s/core)")

    print("games (solver answers and corrupted ones):")
    for name in BUILTIN_GAMES:
        game = get_game(name)
        items = []
        for seed in range(100):
            puzzle = game.generate(random.Random(seed))
            truth, answer = json.dumps(puzzle), game.solve(puzzle)
            items += [(f"Reasoning... <answer>{answer}</answer>", truth), (f"Reasoning... <answer>{answer[:-1]}</answer>", truth)]
        checks = rate(lambda response, truth: compute_score(f"game/{name}", response, truth), items, args.repeats)
        print(f"  {name:16s} {checks:8.0f} checks/s   (goal: >= 5,000)")

    reasoning_gym_section(args.repeats)

    worst, worst_case = 0.0, None
    for case in HOSTILE:
        start = time.perf_counter()
        compute_score(*case)
        elapsed = time.perf_counter() - start
        if elapsed > worst:
            worst, worst_case = elapsed, case
    print(f"hostile: worst latency {worst:.3f} s over {len(HOSTILE)} cases (goal: <= 1 s); "
          f"slowest: {worst_case[0]} {str(worst_case[1])[:60]!r}")


def reasoning_gym_section(repeats: int) -> None:
    """rg/<task> games (if reasoning-gym is installed): gold answers and other puzzles' golds, per task,
    through compute_score (each check is a round trip to a sandbox worker)."""
    from reward_fns.games import game_names

    names = [n for n in game_names() if n.startswith("rg/")]
    if not names:
        print("reasoning-gym: not installed (pip install -e .[reasoning-gym])")
        return
    print(f"reasoning-gym ({len(names)} tasks; gold answers and other puzzles' golds, sandboxed):")
    compute_score("game/rg/basic_arithmetic", "<answer>1</answer>", json.dumps(get_game("rg/basic_arithmetic").generate(random.Random(0))))
    rates = {}
    for name in names:
        game = get_game(name)
        puzzles = [game.generate(random.Random(seed)) for seed in range(10)]
        items = []
        for i, puzzle in enumerate(puzzles):
            truth = json.dumps(puzzle)
            items += [(f"Reasoning... <answer>{game.solve(puzzle)}</answer>", truth),
                      (f"Reasoning... <answer>{game.solve(puzzles[i - 1])}</answer>", truth)]
        compute_score(f"game/{name}", *items[0])  # the worker builds the task's scorer once (up to ~0.3 s)
        rates[name] = rate(lambda response, truth: compute_score(f"game/{name}", response, truth), items, repeats)
    ordered = sorted(rates.values())
    print(f"  median {ordered[len(ordered) // 2]:8.0f} checks/s   slowest {min(rates, key=rates.get)} {ordered[0]:.0f} checks/s   "
          f"fastest {ordered[-1]:.0f} checks/s")
    for name in sorted(rates, key=rates.get)[:5]:
        print(f"  {name:32s} {rates[name]:8.0f} checks/s")


if __name__ == "__main__":
    main()
