"""What every behaviour backend shares: how data was sampled, what is scored, and log π under it.

Why: PEAR needs log π_β(y_t | y_<t) at every trainable token, under the distribution the data was
*sampled* from: softmax(logits / τ), further truncated and renormalised when the data was sampled with
top-k and/or top-p (`sampling_log_probs`, against a loop reference in tests/unit/behaviour/test_score.py).
A sampled token outside the kept set is impossible under π_β and is reported as an error, never silently
floored, unless it lies within numerical noise of the set's edge (`BoundarySlack`: the sampler's logits and
the rescoring pass's differ in the last bits).

Types: `SamplingDistribution` (τ, top-k, top-p), `TokenSequence` (what a scorer scores), `Sample` (what a
generator returns), dtypes (`resolve_dtype`). The backends above this module: `hf_backend`, `vllm_backend`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

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
    betters = scaled >= target  # the target and every token at least as likely
    extended = keep | betters
    ok = torch.ones(len(targets), dtype=torch.bool, device=scaled.device)
    pool = torch.isfinite(scaled)  # what top-p works on: the top-k set, here with the target and its betters
    if dist.top_k is not None and dist.top_k < scaled.shape[-1]:
        kth = torch.topk(scaled, dist.top_k, dim=-1).values[:, -1:]
        ok &= (target >= kth - slack.top_k_logit)[:, 0]
        pool = (scaled >= kth) | betters
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


@dataclass
class Sample:
    text: str
    finished: bool  # stopped on an end-of-turn token, not cut at max_new_tokens
    token_ids: list[int]  # what was sampled after the generation prompt, its end-of-turn token included
    log_probs: Optional[list[float]] = None  # log π_sample of each token id, when the backend reports it
