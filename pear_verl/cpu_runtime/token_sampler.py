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

Run: used by `pear_verl.cpu_runtime.hf_rollout`; `tests/unit/cpu_runtime/test_token_sampler.py` checks it against a one-token-
at-a-time loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Optional, Sequence

import torch
from transformers import GenerationConfig


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
    )


@torch.no_grad()
def sample_batch(model, requests: Sequence[SamplingRequest], stop_token_ids: Sequence[int], pad_token_id: int) -> list[SampledResponse]:
    """Sample one response per request; the results are in request order."""
    results: list[Optional[SampledResponse]] = [None] * len(requests)
    order = sorted(range(len(requests)), key=lambda i: requests[i].settings())
    for _, group in groupby(order, key=lambda i: requests[i].settings()):
        indices = list(group)
        for i, response in zip(indices, _sample_group(model, [requests[i] for i in indices], stop_token_ids, pad_token_id)):
            results[i] = response
    return results  # type: ignore[return-value]


def _sample_group(model, requests: list[SamplingRequest], stop_token_ids: Sequence[int], pad_token_id: int) -> list[SampledResponse]:
    first = requests[0]
    device = next(model.parameters()).device
    width = max(len(r.prompt_ids) for r in requests)
    input_ids = torch.full((len(requests), width), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(requests), width), dtype=torch.long)
    for row, request in enumerate(requests):  # left padding: every prompt ends at the same column
        input_ids[row, width - len(request.prompt_ids) :] = torch.tensor(request.prompt_ids)
        attention_mask[row, width - len(request.prompt_ids) :] = 1
    stops = [] if first.ignore_eos else [int(t) for t in stop_token_ids]
    # generate() fills every unset option from model.generation_config (a checkpoint's may carry e.g.
    # top_k=20 or a repetition penalty): a neutral one makes the request's settings the only ones.
    model.generation_config = GenerationConfig()
    greedy = first.temperature == 0
    out = model.generate(
        input_ids=input_ids.to(device),
        attention_mask=attention_mask.to(device),
        do_sample=not greedy,
        temperature=1.0 if greedy else first.temperature,
        top_p=1.0 if greedy else first.top_p,
        top_k=0 if greedy or first.top_k <= 0 else first.top_k,  # 0 = off (HF's default would be 50)
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
    for row, request in enumerate(requests):
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
