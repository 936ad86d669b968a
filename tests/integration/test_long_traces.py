"""Long responses through the whole PEAR data path: `pear-verl generate` (HF, thousands of tokens per response)
-> behaviour log-probs -> verl's SFT trainer with packed sequences (`model.use_remove_padding=True`).

What SFT trains must be exactly the tokens the teacher sampled, and their behaviour log-probs the teacher's
sampling log-probs (checked against a plain-loop forward, not against pear_verl's scorer)."""

import numpy as np
import pandas as pd
import pytest
from transformers import AutoTokenizer

from pear_verl.behaviour.generate import GenerationSettings, generate, read_generation_metadata
from pear_verl.evaluation.rl_data import make_game_data
from pear_verl.training.data import BEHAVIOR_KEY, PearSFTDataset
from tests.integration.test_sft_e2e import checked, run_sft
from tests.reference import forward_log_probs

pytestmark = pytest.mark.integration

MIN_LONG = 2000
DATA = {"max_length": 8192}


@pytest.fixture(scope="module")
def long_sft(tiny_models, tmp_path_factory):
    """An untrained tiny teacher ends a response with probability ~1/1000 per token: of 24 samples at seed 0,
    several run past 2,000 tokens before their end-of-turn token."""
    folder = tmp_path_factory.mktemp("long")
    make_game_data("countdown", 3, 1, 0, {"n_numbers": 3}, folder)
    settings = GenerationSettings(tiny_models["teacher"], n=8, max_new_tokens=7000, keep="all", seed=0)
    return generate(str(folder / "train.parquet"), folder / "sft.parquet", settings, chunk_prompts=3, data_config=DATA)


def test_trained_tokens_are_the_sampled_ones_with_their_sampling_log_probs(tiny_models, long_sft):
    frame = pd.read_parquet(long_sft)
    lengths = frame["response_ids"].map(len)
    assert lengths.max() >= MIN_LONG, f"no response of {MIN_LONG}+ tokens: {sorted(lengths)}"
    tok = AutoTokenizer.from_pretrained(tiny_models["teacher"])
    dataset = PearSFTDataset(str(long_sft), tok, {"pad_mode": "no_padding", **DATA})
    for i, row in enumerate(frame.itertuples()):
        sample = dataset[i]
        trained = sample["input_ids"][sample["loss_mask"].bool()].tolist()
        assert trained == list(row.response_ids)
    long_rows = frame[lengths >= MIN_LONG]
    reference = forward_log_probs(tiny_models["teacher"], str(long_sft), rows=list(long_rows.index), max_length=DATA["max_length"])
    for got, want in zip(long_rows[BEHAVIOR_KEY], reference):
        np.testing.assert_allclose(got, want, atol=1e-4)
    agreement = read_generation_metadata(long_sft)["rescored_vs_sampled"]  # what generate's sampler recorded
    assert agreement["rows"] == len(frame) and agreement["tokens"] == lengths.sum() and agreement["max_abs"] < 1e-4


def test_pear_sft_trains_on_long_packed_sequences(tiny_models, long_sft, tmp_path):
    frame = pd.read_parquet(long_sft)
    metrics = checked(run_sft(tmp_path, tiny_models["student"], str(long_sft), "model.use_remove_padding=True",
                              f"data.max_length={DATA['max_length']}", "data.max_token_len_per_gpu=8192", batch=len(frame)))[0]
    assert metrics["pear/trainable_tokens"] == frame["response_ids"].map(len).sum()
    assert np.isfinite(metrics["train/loss"]) and 0 < metrics["pear/ess"] <= 1
