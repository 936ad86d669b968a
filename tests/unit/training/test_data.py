"""PearSFTDataset: verl's tokenisation, aligned behaviour log-probs, and located errors on bad rows."""

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import AutoTokenizer
from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

from pear_verl.behaviour.score import score_parquet
from pear_verl.training.data import BEHAVIOR_KEY, FINGERPRINT_KEY, BehaviorDataError, PearSFTDataset
from tests.conftest import chat_rows
from tests.reference import DATA_CONFIG

CONFIG = DATA_CONFIG


@pytest.fixture(scope="module")
def scored(teacher_scored):
    return teacher_scored


@pytest.fixture(scope="module")
def tokenizer(tiny_models):
    return AutoTokenizer.from_pretrained(tiny_models["student"])


def corrupt(src, dst, row, column, value):
    frame = pd.read_parquet(src)
    frame.at[row, column] = value
    frame.to_parquet(dst, index=False)
    return str(dst)


def test_tokenisation_is_verls_for_plain_templates_and_behaviour_is_aligned(scored, tokenizer):
    """With a template that renders turns alone as in context (ChatML), verl's per-turn tokenisation and ours
    agree, except that ours trains only what the model generates: nothing after an end-of-turn token (verl
    also trains the template's newline after <|im_end|>, and ends the row with it)."""
    ours = PearSFTDataset(scored, tokenizer, CONFIG)
    verls = MultiTurnSFTDataset(scored, tokenizer, CONFIG)
    frame = pd.read_parquet(scored)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert len(ours) == len(verls) == len(frame)
    for i in range(len(ours)):
        a, b = ours[i], verls[i]
        n = len(a["input_ids"])
        assert torch.equal(a["input_ids"], b["input_ids"][:n]) and a["input_ids"][-1] == end
        assert tokenizer.decode(b["input_ids"][n:]) == "\n"
        after_end = torch.cat([torch.tensor([False]), b["input_ids"][:-1] == end])
        assert torch.equal(a["loss_mask"], torch.where(after_end, 0, b["loss_mask"])[:n])
        assert torch.equal(a["position_ids"], torch.arange(n))
        mask = a["loss_mask"].bool()
        assert a[BEHAVIOR_KEY].shape == a["input_ids"].shape
        np.testing.assert_allclose(a[BEHAVIOR_KEY][mask].numpy(), np.asarray(frame[BEHAVIOR_KEY][i]), rtol=1e-6)
        assert (a[BEHAVIOR_KEY][~mask] == 0).all()


def test_multi_turn_rows_have_two_trainable_spans(scored, tokenizer):
    ds = PearSFTDataset(scored, tokenizer, CONFIG)
    mask = ds[2]["loss_mask"].tolist()  # row 2 is multi-turn
    starts = sum(1 for i in range(1, len(mask)) if mask[i] and not mask[i - 1])
    assert starts == 2


def test_plain_sft_data_needs_no_behaviour(raw_parquet, tokenizer):
    ds = PearSFTDataset(raw_parquet, tokenizer, {**CONFIG, "behavior_log_probs_key": None})
    assert BEHAVIOR_KEY not in ds[0]


@pytest.mark.parametrize(
    "column,value,message",
    [
        (BEHAVIOR_KEY, [float("nan")] * 13, "not finite"),
        (BEHAVIOR_KEY, [-1.0] * 12 + [float("inf")], "not finite"),
        (BEHAVIOR_KEY, [-1.0] * 12 + [0.5], "positive"),
        (BEHAVIOR_KEY, [-1.0, -2.0], "2 log-probs for"),
        ("messages", [{"role": "user", "content": None}, {"role": "assistant", "content": "4"}], "expected a list of {role, content} messages"),
        ("messages", [{"role": "assistant", "content": "hi"}], "no context precedes it"),
        ("messages", [{"role": "user", "content": "hi"}], "no assistant message"),
        (BEHAVIOR_KEY, None, "expected a list of floats"),
        (FINGERPRINT_KEY, "0123456789abcdef", "does not match this tokenisation"),
    ],
)
def test_bad_rows_name_file_row_and_field(scored, tokenizer, tmp_path, column, value, message):
    bad = corrupt(scored, tmp_path / "bad.parquet", 5, column, value)
    with pytest.raises(BehaviorDataError) as err:
        PearSFTDataset(bad, tokenizer, CONFIG)
    text = str(err.value)
    assert f"{bad}: row 5: field '{column}'" in text and message in text, text


def test_missing_column(raw_parquet, tokenizer):
    with pytest.raises(BehaviorDataError, match=f"{raw_parquet}: missing column '{BEHAVIOR_KEY}'"):
        PearSFTDataset(raw_parquet, tokenizer, CONFIG)


def test_row_numbers_are_per_file(scored, tokenizer, tmp_path):
    """With two files, the error names the second file and the row inside it."""
    good = scored
    bad = corrupt(scored, tmp_path / "second.parquet", 3, BEHAVIOR_KEY, [0.7] * 13)
    with pytest.raises(BehaviorDataError, match=f"{bad}: row 3: field '{BEHAVIOR_KEY}'"):
        PearSFTDataset([good, bad], tokenizer, CONFIG)


def test_over_long_row_is_located(scored, tokenizer):
    with pytest.raises(BehaviorDataError, match=f"{scored}: row 0: field 'messages'.*max_length"):
        PearSFTDataset(scored, tokenizer, {**CONFIG, "max_length": 8})


def test_other_tokenisation_is_rejected(scored, tokenizer):
    """Data scored for max_length=1024 does not silently train with right-truncation at 30 tokens."""
    with pytest.raises(BehaviorDataError, match="trainable tokens"):
        PearSFTDataset(scored, tokenizer, {**CONFIG, "max_length": 30, "truncation": "right"})


def test_max_samples_shuffle_keeps_provenance(scored, tokenizer, tmp_path):
    """verl's random max_samples draw over two files: errors still name the right file and row."""
    other = tmp_path / "other_raw.parquet"
    pd.DataFrame(chat_rows(16, seed=1)).to_parquet(other, index=False)
    score_parquet(other, tmp_path / "other.parquet", tokenizer.name_or_path, data_config=CONFIG)
    frame = pd.read_parquet(tmp_path / "other.parquet")
    frame[BEHAVIOR_KEY] = [[0.5] * len(v) for v in frame[BEHAVIOR_KEY]]  # every row of file B is bad
    bad = str(tmp_path / "bad.parquet")
    frame.to_parquet(bad, index=False)
    cfg = {**CONFIG, "shuffle": True, "seed": 3}
    # Ground truth from verl itself: which rows of B its draw selects (B's contents are unique).
    chosen = MultiTurnSFTDataset([scored, bad], tokenizer, cfg, max_samples=12).messages
    row_of = {str(r["messages"]): i for i, r in enumerate(chat_rows(16, seed=1))}
    want = sorted(row_of[str(m)] for m in chosen if str(m) in row_of)
    assert 0 < len(want) < 12
    with pytest.raises(BehaviorDataError) as err:
        PearSFTDataset([scored, bad], tokenizer, cfg, max_samples=12)
    got = sorted(int(line.split(": row ")[1].split(":")[0]) for line in str(err.value).splitlines()[1:])
    assert all(line.startswith(f"{bad}: row ") for line in str(err.value).splitlines()[1:])
    assert got == want
