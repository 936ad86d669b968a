"""How a chat row becomes the token sequence PEAR trains and scores: exactly what the model generated.

Why not verl's own per-turn tokenisation: `MultiTurnSFTDataset` renders every message *alone* and
concatenates the pieces. Thinking models' chat templates (Qwen3 and its kin) render an assistant message
differently alone than at the end of a conversation: they drop `<think>…</think>` from any assistant
message that is not after the last user turn. verl then either refuses the row (a mismatch assertion) or,
with `ignore_input_ids_mismatch=True`, trains the answer alone — the whole reasoning silently lost, from SFT
and from the behaviour log-probs.

Here every assistant turn k is taken the way it was generated:

    prompt_k = render(messages[:k], add_generation_prompt=True)     # the context the model saw
    turn_k   = render(messages[:k+1])[len(prompt_k):]               # what it generated after it
    trained  = turn_k up to and including its end-of-turn token     # template text after it is context

so the `<think>` block of the final turn is trained in full. A row's sequence ends with its last assistant
turn's end-of-turn token. When the row carries the sampled token ids of its last turn (`response_ids`, as
`pear-verl generate` writes them), those ids *are* turn_K: byte-level BPE can sample a token split that
re-tokenising the decoded text would not reproduce, and PEAR's ratios are per sampled token.

`train_turns` (`data.train_turns`):
- `all` (default): every assistant turn is trained, in one sequence. This needs a template that renders
  earlier turns the same once later turns follow; one that rewrites history (drops earlier thinking) is
  refused for that row, naming it, since no single sequence holds every turn as it was generated.
- `last`: only the final assistant turn is trained; earlier turns are context, rendered as the template
  renders history. For multi-turn thinking data, split each conversation into one row per assistant turn.

Run: used by `pear_verl.training.data.PearSFTDataset`; tests in `tests/unit/training/test_chat_tokens.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch

TRAIN_TURNS = ("all", "last")


class ChatTokenError(ValueError):
    """A row that cannot be turned into generated-token spans; the caller adds file and row."""


@dataclass(frozen=True)
class ChatTokens:
    input_ids: torch.Tensor  # [L] long
    loss_mask: torch.Tensor  # [L] long, 1 = a token the model generated in a trained assistant turn


# End-of-turn tokens of common chat formats (ChatML/Qwen, Llama 3, Phi, Gemma), used when the tokenizer has
# them: a base model's eos (Qwen3-Base: <|endoftext|>) is often not the token its chat template ends turns with.
END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>")


def end_of_turn_ids(tokenizer, names: Sequence[str] = END_OF_TURN_TOKENS) -> frozenset[int]:
    """Ids that end an assistant turn: the tokenizer's eos and those of `names` that are added tokens."""
    added = tokenizer.get_added_vocab()
    ids = {added[name] for name in names if name in added}
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return frozenset(ids)


class ChatRenderer:
    """Renders rows with one tokenizer and template settings; see the module docstring for the rules."""

    def __init__(self, tokenizer, chat_template_kwargs: Optional[dict] = None, train_turns: str = "all",
                 end_of_turn_tokens: Sequence[str] = END_OF_TURN_TOKENS):
        if train_turns not in TRAIN_TURNS:
            raise ValueError(f"data.train_turns must be one of {TRAIN_TURNS}, got {train_turns!r}")
        self.tokenizer = tokenizer
        self.kwargs = dict(chat_template_kwargs or {})
        self.train_turns = train_turns
        self.end_ids = end_of_turn_ids(tokenizer, end_of_turn_tokens)

    def render(self, messages: Sequence[dict], tools, add_generation_prompt: bool, enable_thinking) -> list[int]:
        kwargs = dict(self.kwargs)
        if enable_thinking is not None:
            kwargs["enable_thinking"] = bool(enable_thinking)
        out = self.tokenizer.apply_chat_template(
            list(messages), tools=tools, add_generation_prompt=add_generation_prompt, tokenize=True, return_dict=True, **kwargs
        )
        return list(out["input_ids"])

    def trained_span(self, turn: list[int]) -> int:
        """Length of the generated part of a rendered turn: through its last end-of-turn token (all of it if none)."""
        for i in range(len(turn) - 1, -1, -1):
            if turn[i] in self.end_ids:
                return i + 1
        return len(turn)

    def tokens(self, messages: Sequence[dict], tools=None, enable_thinking=None, response_ids: Optional[Sequence[int]] = None) -> ChatTokens:
        """The row's token sequence and loss mask. `response_ids`: sampled ids of the last assistant turn."""
        turns = [k for k, m in enumerate(messages) if m.get("role") == "assistant"]
        if not turns:
            raise ChatTokenError("no assistant message to train on")
        if turns[0] == 0:
            raise ChatTokenError("the first message is an assistant message: no context precedes it")
        last = turns[-1]
        trained = turns if self.train_turns == "all" else [last]
        for k in trained:
            if not messages[k]["content"].strip() and not (k == last and response_ids is not None and len(response_ids)):
                raise ChatTokenError(f"empty assistant response (message {k})")

        sequence: list[int] = []
        mask: list[int] = []
        for k in trained:
            prompt = self.render(messages[:k], tools, True, enable_thinking)
            if prompt[: len(sequence)] != sequence:
                raise ChatTokenError(
                    f"the chat template renders assistant turn {k} differently once later turns follow (it rewrites "
                    "history, e.g. drops the thinking of earlier turns), so one sequence cannot train every turn as it "
                    "was generated: set data.train_turns=last, or split the conversation into one row per assistant turn"
                )
            if k == last and response_ids is not None:
                span = response_ids.tolist() if hasattr(response_ids, "tolist") else list(map(int, response_ids))
            else:
                full = self.render(messages[: k + 1], tools, False, enable_thinking)
                if full[: len(prompt)] != prompt:
                    raise ChatTokenError(
                        f"assistant turn {k}: the chat template's generation prompt is not how it renders the start of "
                        "that turn (check data.apply_chat_template_kwargs, e.g. enable_thinking)"
                    )
                turn = full[len(prompt) :]
                span = turn[: self.trained_span(turn)]
            if not span:
                raise ChatTokenError(f"assistant turn {k} renders to no tokens")
            mask += [0] * (len(prompt) - len(sequence)) + [1] * len(span)
            sequence = prompt + span
        return ChatTokens(torch.tensor(sequence, dtype=torch.long), torch.tensor(mask, dtype=torch.long))
