"""Behaviour data: the log-probs π_β PEAR needs, from a teacher's samples or by rescoring a dataset.

Layers, bottom up: `sampling` (shared types: the sampling distribution, token sequences, samples, and
log π under a truncated distribution), the backends `hf_backend` and `vllm_backend` (each with its generator
and its scorer; `sampled` records HF's sampling log-probs), then the jobs `score`, `generate` and `report`
(+ `preflight`, the weight diagnostics it prints). The jobs are the `pear-verl` subcommands.
"""
