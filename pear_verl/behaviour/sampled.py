"""What a teacher sampled, token for token, and the checks `pear-verl generate` makes around sampling.

Why: PEAR's ratios are per sampled token. A response kept as text and re-tokenised later can come back as
other tokens (byte-level BPE can sample splits that encoding the text does not reproduce), and a thinking
template can re-render it (`pear_verl.training.chat_tokens`). So a sample keeps its token ids, and — where the
backend reports them — the log-probs it was drawn with, which rescoring must reproduce: a large gap means
rescoring does not see what the sampler saw (another template, dtype or sampling setting).

- `SampledLogProbs`: a transformers logits processor that records log π_sample of each sampled token, from
  the scores after temperature/top-k/top-p. transformers runs user processors *before* its own warpers, so
  `sampling_processors` builds the warpers itself, with the recorder last; `generate` is then called with
  temperature 1 and no top-k/top-p of its own.
- `check_lengths`: before any sampling, every prompt plus `max_new_tokens` must fit the training
  `max_length`, or a response sampled for hours could not be trained.
- `compare_log_probs`: rescored vs sampled log-probs, summarised.

Run: used by `pear_verl.behaviour.generate`; tests in `tests/unit/behaviour/test_generate.py`.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch


class SampledLogProbs:
    """Logits processor recording, for every row, log π_sample(token) of each sampled token.

    A processor sees the scores of step t before the token is drawn; the token drawn shows up as the last
    input id of step t+1, and `finish(sequences)` collects the final step's."""

    def __init__(self):
        self.pending: Optional[torch.Tensor] = None  # [rows, V] log-softmax of the last scores seen
        self.steps: list[torch.Tensor] = []

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        self._collect(input_ids[:, -1:])
        self.pending = torch.log_softmax(scores.float(), dim=-1)
        return scores

    def _collect(self, last_tokens: torch.Tensor) -> None:
        if self.pending is not None:
            self.steps.append(self.pending.gather(-1, last_tokens).squeeze(-1).cpu())
            self.pending = None

    def finish(self, sequences: torch.Tensor) -> torch.Tensor:
        """`[rows, new_tokens]` float32 log-probs of the tokens sampled (garbage after a row's end)."""
        self._collect(sequences[:, -1:])
        return torch.stack(self.steps, dim=1) if self.steps else torch.zeros(sequences.shape[0], 0)


def sampling_processors(temperature: float, top_k: Optional[int], top_p: Optional[float]) -> tuple[list, SampledLogProbs]:
    """transformers' own warpers in its own order (temperature, top-k, top-p), then the recorder."""
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    recorder = SampledLogProbs()
    warpers = [TemperatureLogitsWarper(temperature)] if temperature != 1.0 else []
    if top_k:
        warpers.append(TopKLogitsWarper(top_k))
    if top_p is not None and top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p))
    return warpers + [recorder], recorder


def check_lengths(prompt_lengths: Sequence[int], max_new_tokens: int, data_config: dict, where: str) -> None:
    """Refuse, before sampling, a prompt + `max_new_tokens` that the training data config could not hold."""
    if max_new_tokens < 1:
        raise ValueError(f"--max-new-tokens must be >= 1, got {max_new_tokens}")
    max_length = int(data_config["max_length"])
    longest = int(np.argmax(prompt_lengths)) if len(prompt_lengths) else 0
    if len(prompt_lengths) and prompt_lengths[longest] + max_new_tokens > max_length and data_config.get("truncation", "error") == "error":
        raise ValueError(
            f"{where}: row {longest}: its prompt takes {prompt_lengths[longest]} tokens, and with --max-new-tokens "
            f"{max_new_tokens} a finished response can reach {prompt_lengths[longest] + max_new_tokens} tokens, more than the "
            f"training max_length={max_length}: pass the SFT stage's setting (--data max_length=N, N >= "
            f"{prompt_lengths[longest] + max_new_tokens}) or lower --max-new-tokens"
        )


def compare_log_probs(sampled: Sequence[Optional[Sequence[float]]], rescored: Sequence[Sequence[float]]) -> dict:
    """Summary of |rescored − sampled| over rows whose sampled log-probs are known."""
    pairs = [(np.asarray(a, np.float64), np.asarray(b, np.float64)) for a, b in zip(sampled, rescored) if a is not None]
    if not pairs:
        return {"rows": 0}
    if any(len(a) != len(b) for a, b in pairs):
        raise RuntimeError("rescored rows have another number of tokens than were sampled: the tokenisation changed")
    diff = np.abs(np.concatenate([b - a for a, b in pairs]))
    return {"rows": len(pairs), "tokens": int(diff.size), "max_abs": float(diff.max(initial=0.0)), "mean_abs": float(diff.mean()) if diff.size else 0.0}
