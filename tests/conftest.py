"""Shared fixtures: tiny local Qwen2 models (student, teacher) and small chat SFT data."""

import random

import pandas as pd
import pytest

from pear_verl.demo.tiny import save_tiny_model


def chat_rows(n: int, seed: int = 0) -> list[dict]:
    """Arithmetic conversations; every third one is multi-turn (two assistant turns)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a, b = rng.randint(0, 99), rng.randint(0, 99)
        messages = [
            {"role": "user", "content": f"{a} + {b} = ?"},
            {"role": "assistant", "content": f"The answer is \\boxed{{{a + b}}}"},
        ]
        if i % 3 == 2:
            messages += [
                {"role": "user", "content": f"and {a} * {b}?"},
                {"role": "assistant", "content": f"{a} * {b} = {a * b}"},
            ]
        rows.append({"messages": messages})
    return rows


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        "student": str(save_tiny_model(root / "student", seed=0)),
        "teacher": str(save_tiny_model(root / "teacher", seed=1)),
    }


@pytest.fixture(scope="session")
def raw_parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "raw.parquet"
    pd.DataFrame(chat_rows(16)).to_parquet(path, index=False)
    return str(path)


@pytest.fixture(scope="session")
def teacher_scored(tiny_models, raw_parquet, tmp_path_factory):
    """raw_parquet with the teacher's behaviour log-probs (pear-verl score)."""
    from pear_verl.behaviour.score import score_parquet
    from tests.reference import DATA_CONFIG

    return str(score_parquet(raw_parquet, tmp_path_factory.mktemp("teacher") / "train.parquet", tiny_models["teacher"], data_config=DATA_CONFIG))
