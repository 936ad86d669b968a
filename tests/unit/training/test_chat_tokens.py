"""chat_tokens: the trained tokens of a row are what the model generated, thinking included (Qwen3-style
template written in tests/thinking_template.py), against string-level references and against verl."""

import pandas as pd
import pytest
import torch
from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

from pear_verl.training.chat_tokens import ChatRenderer, ChatTokenError
from pear_verl.training.data import BehaviorDataError, PearSFTDataset
from tests.reference import DATA_CONFIG
from tests.thinking_template import thinking_tokenizer

REASONING = "Let me see. 2 + 3 = 5, and 5 * 9 = 45, plus 1 is 46."
THOUGHT = f"<think>\n{REASONING}\n</think>\n\nThe answer is \\boxed{{46}}"
ROW = [{"role": "user", "content": "What is (2 + 3) * 9 + 1?"}, {"role": "assistant", "content": THOUGHT}]
MULTI = [ROW[0], {"role": "assistant", "content": "<think>\nfirst thoughts\n</think>\n\n46"},
         {"role": "user", "content": "And times 2?"}, {"role": "assistant", "content": "<think>\n46 * 2 = 92\n</think>\n\n92"}]


@pytest.fixture(scope="module")
def tok(tiny_models):
    return thinking_tokenizer(tiny_models["student"])


def trained_text(tok, tokens) -> list[str]:
    """Decoded text of each maximal trained span."""
    ids, mask = tokens.input_ids.tolist(), tokens.loss_mask.tolist()
    spans, current = [], []
    for i, m in zip(ids, mask):
        if m:
            current.append(i)
        elif current:
            spans.append(tok.decode(current))
            current = []
    return spans + ([tok.decode(current)] if current else [])


def generated_text(tok, messages, k, **kwargs) -> str:
    """String reference: what follows the generation prompt in the rendering of messages[:k+1], through <|im_end|>."""
    prompt = tok.apply_chat_template(messages[:k], add_generation_prompt=True, tokenize=False, **kwargs)
    full = tok.apply_chat_template(messages[: k + 1], tokenize=False, **kwargs)
    assert full.startswith(prompt)
    turn = full[len(prompt) :]
    return turn[: turn.index("<|im_end|>") + len("<|im_end|>")]


def test_single_turn_trains_the_whole_thinking_trace(tok):
    tokens = ChatRenderer(tok).tokens(ROW)
    assert trained_text(tok, tokens) == [generated_text(tok, ROW, 1)]
    assert REASONING in trained_text(tok, tokens)[0]


def test_verl_per_turn_tokenisation_loses_the_reasoning(tok, tmp_path):
    """Why chat_tokens exists: verl 0.9.1 refuses the row, or with ignore_input_ids_mismatch trains no reasoning."""
    path = tmp_path / "t.parquet"
    pd.DataFrame({"messages": [ROW]}).to_parquet(path)
    with pytest.raises(AssertionError, match="ignore_input_ids_mismatch"):
        MultiTurnSFTDataset(str(path), tok, DATA_CONFIG)[0]
    sample = MultiTurnSFTDataset(str(path), tok, {**DATA_CONFIG, "ignore_input_ids_mismatch": True})[0]
    verl_trained = tok.decode(sample["input_ids"][sample["loss_mask"].bool()])
    assert REASONING not in verl_trained and "46" in verl_trained
    ours = PearSFTDataset(str(path), tok, {**DATA_CONFIG, "behavior_log_probs_key": None})[0]
    assert REASONING in tok.decode(ours["input_ids"][ours["loss_mask"].bool()])


def test_sampled_ids_are_trained_as_they_are(tok):
    """A split that encoding the text would not produce (one token per character) is kept."""
    text = "The answer is 46"
    ids = [tok.convert_tokens_to_ids(t) for t in tok.tokenize(text)]
    odd = [i for ch in text for i in tok.encode(ch, add_special_tokens=False)] + [tok.convert_tokens_to_ids("<|im_end|>")]
    assert len(odd) > len(ids) + 1
    row = [ROW[0], {"role": "assistant", "content": text}]
    tokens = ChatRenderer(tok).tokens(row, response_ids=odd)
    assert tokens.input_ids[tokens.loss_mask.bool()].tolist() == odd
    prompt = tok.apply_chat_template(row[:1], add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
    assert tokens.input_ids.tolist() == list(prompt) + odd


def test_history_rewriting_template_refuses_all_turns_and_trains_the_last(tok):
    with pytest.raises(ChatTokenError, match="rewrites history.*train_turns=last"):
        ChatRenderer(tok).tokens(MULTI)
    tokens = ChatRenderer(tok, train_turns="last").tokens(MULTI)
    assert trained_text(tok, tokens) == [generated_text(tok, MULTI, 3)]
    context = tok.decode(tokens.input_ids[~tokens.loss_mask.bool()])
    assert "first thoughts" not in context and "46" in context  # history as the template renders it


def test_plain_template_trains_every_turn(tiny_models):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_models["student"])
    tokens = ChatRenderer(tok).tokens(MULTI)
    assert trained_text(tok, tokens) == [generated_text(tok, MULTI, 1), generated_text(tok, MULTI, 3)]


def test_thinking_off_trains_the_answer_after_the_empty_block(tok):
    row = [ROW[0], {"role": "assistant", "content": "The answer is 46"}]
    tokens = ChatRenderer(tok, {"enable_thinking": False}).tokens(row)
    prompt = tok.decode(tokens.input_ids[~tokens.loss_mask.bool()])
    assert prompt.endswith("<think>\n\n</think>\n\n")
    assert trained_text(tok, tokens) == ["The answer is 46<|im_end|>"]


@pytest.mark.parametrize(
    "messages,message",
    [
        ([{"role": "user", "content": "hi"}], "no assistant message"),
        ([{"role": "assistant", "content": "hi"}], "no context precedes it"),
        ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": " "}], "empty assistant response"),
    ],
)
def test_rows_without_generated_tokens_are_refused(tok, messages, message):
    with pytest.raises(ChatTokenError, match=message):
        ChatRenderer(tok).tokens(messages)


def test_dataset_names_the_row_of_a_history_rewrite_and_checks_response_ids(tok, tmp_path):
    path = tmp_path / "m.parquet"
    pd.DataFrame({"messages": [ROW, MULTI]}).to_parquet(path)
    with pytest.raises(BehaviorDataError, match=f"{path}: row 1: field 'messages': .*rewrites history"):
        PearSFTDataset(str(path), tok, {**DATA_CONFIG, "behavior_log_probs_key": None})
    ids = tok.encode("Something else", add_special_tokens=False)
    pd.DataFrame({"messages": [ROW], "response_ids": [ids]}).to_parquet(path)
    with pytest.raises(BehaviorDataError, match=f"{path}: row 0: field 'response_ids': .*decode to other text"):
        PearSFTDataset(str(path), tok, {**DATA_CONFIG, "behavior_log_probs_key": None})
    good = tok.encode(THOUGHT, add_special_tokens=False) + [tok.convert_tokens_to_ids("<|im_end|>")]
    pd.DataFrame({"messages": [ROW], "response_ids": [good]}).to_parquet(path)
    sample = PearSFTDataset(str(path), tok, {**DATA_CONFIG, "behavior_log_probs_key": None})[0]
    assert torch.equal(sample["input_ids"][sample["loss_mask"].bool()], torch.tensor(good))
