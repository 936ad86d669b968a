"""Batched token-in-token-out sampling with HF transformers, following vLLM's sampling semantics.

Why: verl's RL loop talks to its rollout servers in token ids (`generate(prompt_ids, sampling_params)`
-> response token ids + optional log-probs). This module is the engine behind pear_verl's CPU rollout
backend (`pear_verl.cpu_runtime.hf_rollout`): it turns a list of such requests into `model.generate` calls.

Semantics, matching the vLLM server verl uses on GPUs:
- `temperature == 0` is greedy; otherwise temperature, then top-k (`<= 0` or -1 = off), then top-p.
- A response stops after the first stop token (the token is part of the response, as in vLLM), or after
  `max_tokens`; `ignore_eos` disables stop tokens.
- Log-probs are of the sampled tokens under the *raw* model distribution (vLLM's default
  `logprobs_mode="raw_logprobs"`): before temperature and truncation.
Requests are grouped by their sampling settings (one `generate` call per group, left-padded); a
group's `max_new_tokens` is its longest request's, and each response is cut at its own `max_tokens` —
later tokens never influence earlier ones, so the cut responses are exact samples.

Reproducibility: a response depends on its own request only, never on which requests share its batch.
Each request carries a seed (drawn from torch's global generator when it has none); a token is drawn by
the Gumbel-max trick, argmax(processed logits + Gumbel noise), with the noise a hash of (seed, position,
token id) — an exact sample of the processed distribution, vectorised over the batch. A row's logits
must not depend on the batch either, to the last bit: prompts are left-padded to a fixed width (`pad_to`,
e.g. the rollout's prompt_length; masked keys still shift the vectorised sums), and a batch has at least
`MIN_ROWS` rows (copies of its first request fill it): on CPU, matrix products with fewer rows took other
MKL kernels (measured with hidden sizes 32–128: any batch of 11 to 520 rows gives a row the same bits,
batches of 1–10 rows sometimes do not; `test_token_sampler.py` checks it).

Run: used by `pear_verl.cpu_runtime.hf_rollout`; `tests/unit/cpu_runtime/test_token_sampler.py` checks it against a one-token-
at-a-time loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Optional, Sequence

import torch
from transformers import GenerationConfig, LogitsProcessor, LogitsProcessorList
from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper


@dataclass(frozen=True)
class SamplingRequest:
    prompt_ids: tuple[int, ...]
    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    repetition_penalty: float = 1.0
    logprobs: bool = False
    ignore_eos: bool = False
    seed: Optional[int] = None  # None: drawn from torch's global generator

    def settings(self) -> tuple:
        """What must be equal for two requests to share one `generate` call."""
        return (self.temperature, self.top_p, self.top_k, self.repetition_penalty, self.ignore_eos)


@dataclass
class SampledResponse:
    token_ids: list[int]
    log_probs: Optional[list[float]]
    finish_reason: str  # "stop" (a stop token ended it) or "length"


def from_verl_params(prompt_ids: Sequence[int], params: dict, default_max_tokens: int, max_model_len: int) -> SamplingRequest:
    """A request from verl's sampling-params dict (the keys verl's agent loop sends to vLLM/SGLang)."""
    known = {"temperature", "top_p", "top_k", "repetition_penalty", "logprobs", "max_tokens", "max_new_tokens", "ignore_eos", "seed"}
    unknown = set(params) - known
    if unknown:  # silently dropping e.g. a stop list would change what is trained on
        raise ValueError(f"hf rollout: unsupported sampling params {sorted(unknown)}; supported: {sorted(known)}")
    room = max_model_len - len(prompt_ids)
    if room < 1:
        raise ValueError(f"prompt of {len(prompt_ids)} tokens leaves no room to generate within max_model_len={max_model_len}")
    max_tokens = params.get("max_tokens", params.get("max_new_tokens", default_max_tokens))
    return SamplingRequest(
        prompt_ids=tuple(int(t) for t in prompt_ids),
        max_tokens=max(1, min(int(max_tokens), room)),
        temperature=float(params.get("temperature", 1.0)),
        top_p=float(params.get("top_p", 1.0)),
        top_k=int(params.get("top_k", -1) or -1),
        repetition_penalty=float(params.get("repetition_penalty", 1.0)),
        logprobs=bool(params.get("logprobs", False)),
        ignore_eos=bool(params.get("ignore_eos", False)),
        seed=None if params.get("seed") is None else int(params["seed"]),
    )


@torch.no_grad()
def sample_batch(model, requests: Sequence[SamplingRequest], stop_token_ids: Sequence[int], pad_token_id: int, pad_to: int = 0) -> list[SampledResponse]:
    """Sample one response per request; the results are in request order. Prompts are left-padded to
    `pad_to` tokens (or the longest prompt, if longer)."""
    seeds = [r.seed % 2**63 if r.seed is not None else int(torch.randint(0, 2**62, ()).item()) for r in requests]
    results: list[Optional[SampledResponse]] = [None] * len(requests)
    order = sorted(range(len(requests)), key=lambda i: requests[i].settings())
    for _, group in groupby(order, key=lambda i: requests[i].settings()):
        indices = list(group)
        responses = _sample_group(model, [requests[i] for i in indices], [seeds[i] for i in indices], stop_token_ids, pad_token_id, pad_to)
        for i, response in zip(indices, responses):
            results[i] = response
    return results  # type: ignore[return-value]


_MASK32 = 0xFFFFFFFF
MIN_ROWS = 16


def _mul32(x: torch.Tensor, c: int) -> torch.Tensor:
    """(x * c) mod 2^32 for int64 tensors of 32-bit values, in 16-bit halves of c so nothing overflows."""
    return (x * (c & 0xFFFF) + (((x * (c >> 16)) & 0xFFFF) << 16)) & _MASK32


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """MurmurHash3's 32-bit finaliser (a bijection with full avalanche)."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x85EBCA6B)
    x = x ^ (x >> 13)
    x = _mul32(x, 0xC2B2AE35)
    return x ^ (x >> 16)


def gumbel_noise(seeds: torch.Tensor, position: int, vocab: int) -> torch.Tensor:
    """[B, vocab] float64 standard Gumbel noise, a pure function of (seed, position, token id)."""
    row = _mix32(_mix32(seeds & _MASK32) ^ (seeds >> 32)) ^ _mix32(torch.tensor(position * 0x9E3779B9 & _MASK32))
    bits = _mix32((_mix32(row[:, None] ^ torch.arange(vocab)[None, :]) + 0x6A09E667) & _MASK32)
    uniform = (bits.double() + 0.5) / 2.0**32
    return -torch.log(-torch.log(uniform))


class GumbelSampling(LogitsProcessor):
    """Last processor of a greedy `generate`: adds per-row Gumbel noise, so the argmax is a sample of the
    processed distribution drawn from the row's own seed."""

    def __init__(self, seeds: list[int], prompt_width: int):
        self.seeds, self.prompt_width = torch.tensor(seeds, dtype=torch.long), prompt_width

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        noise = gumbel_noise(self.seeds, input_ids.shape[1] - self.prompt_width, scores.shape[-1])
        return scores + noise.to(scores.device, scores.dtype)


def _sample_group(model, requests: list[SamplingRequest], seeds: list[int], stop_token_ids: Sequence[int], pad_token_id: int, pad_to: int) -> list[SampledResponse]:
    first, real = requests[0], len(requests)
    requests, seeds = requests + [first] * (MIN_ROWS - real), seeds + [seeds[0]] * (MIN_ROWS - real)  # fillers, dropped below
    device = next(model.parameters()).device
    width = max(pad_to, *(len(r.prompt_ids) for r in requests))
    input_ids = torch.full((len(requests), width), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(requests), width), dtype=torch.long)
    for row, request in enumerate(requests):  # left padding: every prompt ends at the same column
        input_ids[row, width - len(request.prompt_ids) :] = torch.tensor(request.prompt_ids)
        attention_mask[row, width - len(request.prompt_ids) :] = 1
    stops = [] if first.ignore_eos else [int(t) for t in stop_token_ids]
    # generate() fills every unset option from model.generation_config (a checkpoint's may carry e.g.
    # top_k=20 or a repetition penalty): a neutral one makes the request's settings the only ones.
    model.generation_config = GenerationConfig()
    # Sampling is a greedy generate over Gumbel-perturbed logits, after vLLM's temperature, top-k, top-p.
    processors = LogitsProcessorList()
    if first.temperature != 0:
        processors.append(TemperatureLogitsWarper(first.temperature))
        if first.top_k > 0:
            processors.append(TopKLogitsWarper(first.top_k))
        if first.top_p < 1:
            processors.append(TopPLogitsWarper(first.top_p))
        processors.append(GumbelSampling(seeds, width))
    out = model.generate(
        input_ids=input_ids.to(device),
        attention_mask=attention_mask.to(device),
        do_sample=False,
        logits_processor=processors,
        repetition_penalty=first.repetition_penalty,
        max_new_tokens=max(r.max_tokens for r in requests),
        min_new_tokens=0,
        eos_token_id=stops or None,
        pad_token_id=pad_token_id,
        return_dict_in_generate=True,
        output_logits=any(r.logprobs for r in requests),
    )
    new_tokens = out.sequences[:, width:].cpu()
    raw_log_probs = _raw_log_probs(out.logits, new_tokens) if out.logits is not None else None
    is_stop = torch.isin(new_tokens, torch.tensor(stops, dtype=torch.long)) if stops else torch.zeros_like(new_tokens, dtype=torch.bool)
    responses = []
    for row, request in enumerate(requests[:real]):
        stop_at = torch.nonzero(is_stop[row, : request.max_tokens])
        length = int(stop_at[0]) + 1 if len(stop_at) else min(request.max_tokens, new_tokens.shape[1])
        responses.append(
            SampledResponse(
                token_ids=new_tokens[row, :length].tolist(),
                log_probs=raw_log_probs[row, :length].tolist() if request.logprobs else None,
                finish_reason="stop" if len(stop_at) else "length",
            )
        )
    return responses


def _raw_log_probs(step_logits: Sequence[torch.Tensor], tokens: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """[B, T] log-probs of `tokens` [B, >=T] under raw logits (T tensors of [B, V]), `chunk` positions
    at a time so that no [B, T, V] copy is made."""
    parts = []
    for start in range(0, len(step_logits), chunk):
        logits = torch.stack(step_logits[start : start + chunk], dim=1).float()  # [B, c, V]
        targets = tokens[:, start : start + logits.shape[1], None].to(logits.device)
        parts.append(torch.log_softmax(logits, dim=-1).gather(-1, targets)[..., 0].cpu())
    return torch.cat(parts, dim=1)
