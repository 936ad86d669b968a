"""Scoring backends: log π_β of given token sequences under a behaviour model (prefill only).

Why: PEAR needs log π_β(y_t | y_<t) at every trainable token, under the distribution the data was
*sampled* from (PEAR.md): softmax(logits / τ), further truncated and renormalised when the data was
sampled with top-k and/or top-p. A sampled token outside the kept set is impossible under π_β and is
reported as an error, never silently floored.

Backends (same inputs, same outputs: one float32 array of trainable-token log-probs per sequence):
- `HFScorer`: transformers on CPU or GPU. Sequences are sorted by length and packed into batches of
  at most `max_batch_tokens` padded tokens, so padding stays small; `padding_fraction` reports it.
- `VLLMScorer` (`pear_verl.vllm_backend`): vLLM `prompt_logprobs`. vLLM computes prompt log-probs from
  the raw logits (no temperature, top-k or top-p), so it only serves τ = 1 without truncation; other
  settings are refused, before an engine starts, with a pointer to the HF backend.

`pear_verl.score` runs these over a dataset (tokenisation, shards, resume, output files).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch


# Model dtypes for scoring and sampling; "auto" is the checkpoint's own (its config's dtype).
DTYPES = ("auto", "float32", "bfloat16", "float16")


def resolve_dtype(model_path: str, dtype: str) -> str:
    """`dtype`, with "auto" replaced by the checkpoint's own dtype (float32 if it names none).

    Resolved here rather than by each backend because they disagree: vLLM's "auto" runs a float32
    checkpoint in bfloat16/float16, transformers' in float32, and sampling and rescoring must match."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    if dtype != "auto":
        return dtype
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_path)
    found = str(getattr(config, "dtype", None) or getattr(config, "torch_dtype", None) or torch.float32).removeprefix("torch.")
    if found not in DTYPES:
        raise ValueError(f"{model_path}: checkpoint dtype {found!r} is not one of {DTYPES[1:]}; pass one explicitly")
    return found


def torch_dtype(model_path: str, dtype: str) -> torch.dtype:
    """`resolve_dtype` as a torch dtype, for transformers' from_pretrained."""
    return getattr(torch, resolve_dtype(model_path, dtype))


@dataclass(frozen=True)
class SamplingDistribution:
    """How the behaviour data was sampled: temperature τ, then top-k, then top-p (HF/vLLM order)."""

    temperature: float = 1.0
    top_k: Optional[int] = None
    top_p: Optional[float] = None

    def __post_init__(self):
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0 (greedy data has no log-probs to speak of), got {self.temperature}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k}")
        if self.top_p is not None and not (0 < self.top_p <= 1):
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")

    @property
    def is_plain(self) -> bool:
        return self.temperature == 1.0 and self.top_k is None and (self.top_p is None or self.top_p == 1.0)


class OutsideSupport(ValueError):
    """A token has probability 0 under the truncated sampling distribution."""

    def __init__(self, sequence: int, position: int, token: int):
        super().__init__(f"sequence {sequence}: token {token} at position {position} is outside the top-k/top-p set")
        self.sequence, self.position, self.token = sequence, position, token


def sampling_log_probs(logits: torch.Tensor, targets: torch.Tensor, dist: SamplingDistribution) -> torch.Tensor:
    """log π(target) under `dist` for each row of `logits` ([N, V], any dtype) -> [N] float32.

    Outside the top-k/top-p set the result is -inf (the caller reports it).
    """
    logits = logits.float() / dist.temperature
    if dist.top_k is not None and dist.top_k < logits.shape[-1]:
        kth = torch.topk(logits, dist.top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if dist.top_p is not None and dist.top_p < 1.0:
        probs, order = torch.sort(torch.softmax(logits, dim=-1), dim=-1, descending=True)
        # Keep the smallest prefix whose mass reaches top_p: a token is dropped when the mass *before* it
        # already reaches top_p (the most likely token is always kept).
        drop_sorted = (torch.cumsum(probs, dim=-1) - probs) >= dist.top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return torch.log_softmax(logits, dim=-1).gather(-1, targets[:, None])[:, 0]


@dataclass
class TokenSequence:
    """One sequence to score: token ids and which positions are trainable (both [L])."""

    input_ids: torch.Tensor
    loss_mask: torch.Tensor


def trainable_targets(seq: TokenSequence) -> torch.Tensor:
    if seq.loss_mask[0]:
        raise ValueError("the first token of a sequence is trainable, but nothing precedes it to score it")
    return seq.loss_mask[1:].bool()


class HFScorer:
    """Batched prefill scoring with a transformers causal LM."""

    def __init__(self, model_path: str, dtype: str = "auto", device: Optional[str] = None, max_batch_tokens: int = 16384):
        from pear_verl.checkpoints import load_causal_lm

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = load_causal_lm(model_path, torch_dtype(model_path, dtype), self.device)
        self.max_batch_tokens = max_batch_tokens
        self.padded_tokens = self.real_tokens = 0

    @property
    def padding_fraction(self) -> float:
        return 1 - self.real_tokens / self.padded_tokens if self.padded_tokens else 0.0

    def batches(self, sequences: Sequence[TokenSequence]) -> list[list[int]]:
        """Indices grouped into length-sorted batches of at most `max_batch_tokens` padded tokens."""
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i].input_ids))
        batches, current = [], []
        for i in order:
            longest = len(sequences[i].input_ids)  # sorted: the newcomer is the longest so far
            if current and longest * (len(current) + 1) > self.max_batch_tokens:
                batches.append(current)
                current = []
            current.append(i)
        return batches + ([current] if current else [])

    @torch.no_grad()
    def score(self, sequences: Sequence[TokenSequence], dist: SamplingDistribution) -> list[np.ndarray]:
        out: list[Optional[np.ndarray]] = [None] * len(sequences)
        for batch in self.batches(sequences):
            lengths = [len(sequences[i].input_ids) for i in batch]
            width = max(lengths)
            ids = torch.zeros(len(batch), width, dtype=torch.long)
            attention = torch.zeros(len(batch), width, dtype=torch.long)
            for row, i in enumerate(batch):  # right padding; causal attention never sees it
                ids[row, : lengths[row]] = sequences[i].input_ids
                attention[row, : lengths[row]] = 1
            logits = self.model(input_ids=ids.to(self.device), attention_mask=attention.to(self.device)).logits
            self.padded_tokens += ids.numel()
            self.real_tokens += sum(lengths)
            for row, i in enumerate(batch):
                keep = trainable_targets(sequences[i])
                positions = torch.nonzero(keep).squeeze(1)  # target index t+1 is predicted at position t
                targets = sequences[i].input_ids[1:][keep].to(self.device)
                values = sampling_log_probs(logits[row, positions], targets, dist).cpu()
                bad = torch.nonzero(~torch.isfinite(values))
                if len(bad):
                    k = int(bad[0])
                    raise OutsideSupport(i, int(positions[k]) + 1, int(targets[k]))
                out[i] = values.numpy().astype(np.float32)
        return out  # type: ignore[return-value]


def make_scorer(backend: str, model_path: str, dtype: str, max_batch_tokens: int = 16384, enforce_eager: bool = False, **engine):
    """`engine`: further vLLM engine arguments (e.g. tensor_parallel_size > 1); HF ignores tensor_parallel_size=1."""
    if backend == "hf":
        if engine.get("tensor_parallel_size", 1) != 1:
            raise ValueError("--tensor-parallel-size is a vLLM setting: the hf backend runs one device per worker")
        return HFScorer(model_path, dtype=dtype, max_batch_tokens=max_batch_tokens)
    if backend == "vllm":
        from pear_verl.vllm_backend import VLLMScorer

        return VLLMScorer(model_path, dtype=dtype, enforce_eager=enforce_eager, **engine)
    raise ValueError(f"unknown scoring backend {backend!r} (hf, vllm)")
