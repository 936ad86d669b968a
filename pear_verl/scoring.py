"""Scoring backends: log π_β of given token sequences under a behaviour model (prefill only).

Why: PEAR needs log π_β(y_t | y_<t) at every trainable token, under the distribution the data was
*sampled* from (PEAR.md): softmax(logits / τ), further truncated and renormalised when the data was
sampled with top-k and/or top-p. A sampled token outside the kept set is impossible under π_β and is
reported as an error, never silently floored, unless it lies within numerical noise of the set's edge
(`BoundarySlack`: the sampler's logits and the rescoring pass's differ in the last bits).

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


@dataclass(frozen=True)
class BoundarySlack:
    """How far outside the rescored top-k/top-p set a sampled token may lie and still be scored.

    Why: the sampler (a KV-cached decode, vLLM's kernels, bf16) and the rescoring forward pass compute
    slightly different logits, so a token the sampler kept at the edge of its set can fall just outside the
    rescored one (seen on an H200 with a 2,000-token fp32 sample at top-p 0.95). Such a token is scored in
    the kept set extended by every token at least as likely as it; a token further out is an error.
    - `top_k_logit`: top-k: the token's logit (after τ) is at most this below the k-th largest.
    - `top_p_mass`: top-p: the probability mass of the tokens more likely than it is below top_p + this.
    """

    top_k_logit: float = 0.25
    top_p_mass: float = 0.02

    def __post_init__(self):
        if not (self.top_k_logit >= 0 and 0 <= self.top_p_mass < 1):
            raise ValueError(f"--top-k-slack must be >= 0 and --top-p-slack in [0, 1), got {self.top_k_logit} and {self.top_p_mass}")


class OutsideSupport(ValueError):
    """A token has probability 0 under the truncated sampling distribution."""

    def __init__(self, sequence: int, position: int, token: int):
        super().__init__(f"sequence {sequence}: token {token} at position {position} is outside the top-k/top-p set")
        self.sequence, self.position, self.token = sequence, position, token


def kept_tokens(scaled: torch.Tensor, top_k: Optional[int], top_p: Optional[float]) -> torch.Tensor:
    """[N, V] bool: the tokens that top-k, then top-p keep of temperature-scaled logits `scaled` [N, V]
    (-inf: not a candidate)."""
    keep = torch.isfinite(scaled)
    if top_k is not None and top_k < scaled.shape[-1]:
        keep &= scaled >= torch.topk(scaled, top_k, dim=-1).values[..., -1:]
    if top_p is not None and top_p < 1.0:
        probs, order = torch.sort(torch.softmax(scaled.masked_fill(~keep, float("-inf")), dim=-1), dim=-1, descending=True)
        # Keep the smallest prefix whose mass reaches top_p: a token is dropped when the mass *before* it
        # already reaches top_p (the most likely token is always kept).
        drop_sorted = (torch.cumsum(probs, dim=-1) - probs) >= top_p
        keep &= ~torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return keep


def sampling_log_probs(logits: torch.Tensor, targets: torch.Tensor, dist: SamplingDistribution,
                       slack: Optional[BoundarySlack] = None) -> tuple[torch.Tensor, torch.Tensor]:
    """log π(target) under `dist` for each row of `logits` ([N, V], any dtype) -> ([N] float32 log-probs,
    [N] bool: the target lay outside the kept set but within `slack` of its edge, and was scored there).

    Outside the kept set and beyond `slack` (None: no slack) the log-prob is -inf (the caller reports it).
    """
    scaled = logits.float() / dist.temperature
    keep = kept_tokens(scaled, dist.top_k, dist.top_p)
    values = torch.log_softmax(scaled.masked_fill(~keep, float("-inf")), dim=-1).gather(-1, targets[:, None])[:, 0]
    at_edge = torch.zeros_like(values, dtype=torch.bool)
    outside = torch.nonzero(~torch.isfinite(values)).squeeze(1)
    if slack is not None and len(outside):  # rare: only these rows pay for a second pass
        edge = edge_log_probs(scaled[outside], keep[outside], targets[outside], dist, slack)
        values[outside], at_edge[outside] = edge, torch.isfinite(edge)
    return values, at_edge


def edge_log_probs(scaled: torch.Tensor, keep: torch.Tensor, targets: torch.Tensor, dist: SamplingDistribution, slack: BoundarySlack) -> torch.Tensor:
    """Targets [N] outside the kept set `keep` [N, V] of `scaled` [N, V]: their log-probs [N] in the kept set plus
    every token at least as likely as the target, where the target is within `slack` of the set's edge; else -inf."""
    target = scaled.gather(-1, targets[:, None])
    extended = keep | (scaled >= target)
    ok = torch.ones(len(targets), dtype=torch.bool, device=scaled.device)
    pool = torch.isfinite(scaled)  # what top-p works on: the top-k set, here with the target and its betters
    if dist.top_k is not None and dist.top_k < scaled.shape[-1]:
        kth = torch.topk(scaled, dist.top_k, dim=-1).values[:, -1:]
        ok &= (target >= kth - slack.top_k_logit)[:, 0]
        pool = (scaled >= kth) | (scaled >= target)
    if dist.top_p is not None and dist.top_p < 1.0:
        before = (torch.softmax(scaled.masked_fill(~pool, float("-inf")), dim=-1) * (scaled > target)).sum(-1)
        ok &= before < dist.top_p + slack.top_p_mass
    values = torch.log_softmax(scaled.masked_fill(~extended, float("-inf")), dim=-1).gather(-1, targets[:, None])[:, 0]
    return values.masked_fill(~ok, float("-inf"))


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

    def __init__(self, model_path: str, dtype: str = "auto", device: Optional[str] = None, max_batch_tokens: int = 16384,
                 slack: Optional[BoundarySlack] = BoundarySlack()):
        from pear_verl.checkpoints import load_causal_lm

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = load_causal_lm(model_path, torch_dtype(model_path, dtype), self.device)
        self.max_batch_tokens, self.slack = max_batch_tokens, slack
        self.padded_tokens = self.real_tokens = 0
        self.edge_tokens: list[int] = []  # per sequence of the last `score` call: scored at the top-k/top-p edge (BoundarySlack)

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
        self.edge_tokens = [0] * len(sequences)
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
                values, at_edge = sampling_log_probs(logits[row, positions], targets, dist, self.slack)
                values = values.cpu()
                self.edge_tokens[i] = int(at_edge.sum())
                bad = torch.nonzero(~torch.isfinite(values))
                if len(bad):
                    k = int(bad[0])
                    raise OutsideSupport(i, int(positions[k]) + 1, int(targets[k]))
                out[i] = values.numpy().astype(np.float32)
        return out  # type: ignore[return-value]


def make_scorer(backend: str, model_path: str, dtype: str, max_batch_tokens: int = 16384, enforce_eager: bool = False,
                slack: Optional[BoundarySlack] = BoundarySlack(), **engine):
    """`engine`: further vLLM engine arguments (e.g. tensor_parallel_size > 1); HF ignores tensor_parallel_size=1.
    `slack` is the HF scorer's (vLLM scores only untruncated distributions, which have no edge)."""
    if backend == "hf":
        if engine.get("tensor_parallel_size", 1) != 1:
            raise ValueError("--tensor-parallel-size is a vLLM setting: the hf backend runs one device per worker")
        return HFScorer(model_path, dtype=dtype, max_batch_tokens=max_batch_tokens, slack=slack)
    if backend == "vllm":
        from pear_verl.vllm_backend import VLLMScorer

        return VLLMScorer(model_path, dtype=dtype, enforce_eager=enforce_eager, **engine)
    raise ValueError(f"unknown scoring backend {backend!r} (hf, vllm)")
