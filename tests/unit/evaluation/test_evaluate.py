"""pass@k against the binomial definition; eval aggregation with known correct counts; compare."""

import json
import random
from math import comb

import pandas as pd
import pytest

from pear_verl.behaviour.generate import GenerationSettings
from pear_verl.behaviour.sampling import Sample
from pear_verl.evaluation.compare import compare
from pear_verl.evaluation.evaluate import evaluate_benchmark, run_eval
from pear_verl.evaluation.rl_data import make_game_data
from pear_verl.evaluation.verdict import pass_at_k
from reward_fns.games import get_game


@pytest.mark.parametrize("n", [1, 5, 16, 64, 200])
def test_pass_at_k_is_the_binomial_formula(n):
    for c in range(n + 1):
        for k in {1, 2, 8, n} & set(range(1, n + 1)):
            want = 1.0 - comb(n - c, k) / comb(n, k)
            assert pass_at_k(n, c, k) == pytest.approx(want, abs=1e-12)


def test_pass_at_k_rejects_impossible_counts():
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 5)


class KnownGenerator:
    """Answers problem i correctly in exactly `plan[i]` of its n samples (solver answers vs junk)."""

    def __init__(self, frame, plan):
        self.frame, self.plan = frame, plan
        self.game = get_game("countdown")

    def sample(self, prompts, settings, seed):
        out = []
        for prompt in prompts:
            i = next(j for j, p in enumerate(self.frame["prompt"]) if p[0]["content"] == prompt[0]["content"])
            puzzle = json.loads(self.frame.iloc[i]["reward_model"]["ground_truth"])
            good = f"<answer>{self.game.solve(puzzle)}</answer>"
            out.append([Sample(good, True, [])] * self.plan[i] + [Sample("<answer>0</answer>", True, [])] * (settings.n - self.plan[i]))
        return out


def test_eval_aggregates_known_counts(tmp_path):
    make_game_data("countdown", 1, 10, 0, {"n_numbers": 3}, tmp_path)
    path = str(tmp_path / "test.parquet")
    frame = pd.read_parquet(path)
    plan = [random.Random(i).randint(0, 8) for i in range(10)]
    result = evaluate_benchmark(KnownGenerator(frame, plan), path, GenerationSettings("x", n=8), [1, 4, 8], chunk=3)
    assert result["correct_per_problem"] == plan
    assert result["pass@1"] == pytest.approx(sum(c / 8 for c in plan) / 10)
    assert result["pass@4"] == pytest.approx(sum(1 - comb(8 - c, 4) / comb(8, 4) for c in plan) / 10)


def test_eval_and_compare_end_to_end(tiny_models, tmp_path):
    make_game_data("countdown", 1, 3, 0, {"n_numbers": 3}, tmp_path / "cd")
    data = {"countdown": str(tmp_path / "cd" / "test.parquet")}
    settings = GenerationSettings(tiny_models["teacher"], n=2, max_new_tokens=16, seed=1)
    a = run_eval(tiny_models["teacher"], data, settings, [1, 2], str(tmp_path / "a"))
    b = run_eval(tiny_models["teacher"], data, settings, [1, 2], str(tmp_path / "b"))
    assert a["benchmarks"] == b["benchmarks"]  # seeded
    table = compare({"sft": [str(tmp_path / "a")], "pear": [str(tmp_path / "b")]}, str(tmp_path / "cmp"))
    assert "| countdown | pass@2 |" in table
    assert (tmp_path / "cmp" / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "a" / "results.md").read_text().count("countdown") == 1


@pytest.mark.parametrize(
    "n,ks,temperature,message",
    [
        (2, [1, 8], 0.6, r"--k 8: pass@k needs 1 <= k <= --n \(2\)"),  # pass@8 was silently dropped
        (4, [0], 0.6, r"--k 0: pass@k needs 1 <= k <= --n \(4\)"),  # failed after all sampling
        (0, [1], 0.6, r"--n=0: must be >= 1"),  # a ZeroDivisionError after all sampling
        (4, [1], 0.0, r"--temperature=0.0: must be > 0"),
    ],
)
def test_eval_settings_are_checked_before_sampling(tmp_path, monkeypatch, n, ks, temperature, message):
    make_game_data("countdown", 1, 2, 0, {"n_numbers": 3}, tmp_path)

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampling started")

    monkeypatch.setattr("pear_verl.evaluation.evaluate.make_generator", no_sampling)
    monkeypatch.setattr("pear_verl.evaluation.evaluate.resolve_dtype", lambda model, dtype: "float32")
    settings = GenerationSettings("org/model", n=n, temperature=temperature)
    with pytest.raises(ValueError, match=message):
        run_eval("org/model", {"cd": str(tmp_path / "test.parquet")}, settings, ks, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_eval_refuses_a_missing_benchmark_before_sampling(tmp_path, monkeypatch):
    monkeypatch.setattr("pear_verl.evaluation.evaluate.make_generator", lambda *a, **k: pytest.fail("sampling started"))
    with pytest.raises(ValueError, match="not found: .*missing.parquet"):
        run_eval("org/model", {"cd": str(tmp_path / "missing.parquet")}, GenerationSettings("org/model", n=2), [1], str(tmp_path / "out"))
