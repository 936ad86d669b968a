"""Benchmark: the vLLM (CPU build) and hf backends side by side, for rollout sampling and for scoring.

Why: on CPU a user (or CI) picks between verl's vLLM rollout and this project's `hf` rollout, and between
`--backend vllm` and `--backend hf` for scoring. Same model, same requests, same process:
- rollout: knights-and-knaves prompts, n samples each, `--new-tokens` tokens per sample (ignore_eos),
  sampled by vLLM's `LLM.generate` on token prompts vs the hf rollout's batched sampler (`token_sampler`);
- scoring: the same prompt + response sequences scored by `VLLMScorer` (prompt log-probs) vs `HFScorer`.
Each side is warmed up once, then timed 3 times, the two alternating; the medians are compared. Engine
start-up is reported on its own line. Ratios are vLLM / hf throughput (above 1: vLLM is faster).

Run: `.venv/bin/python bench/vllm_vs_hf.py [--prompts 64] [--n 4] [--new-tokens 32] [--hidden 256 --layers 4]`
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from pear_verl.behaviour.hf_backend import HFScorer
from pear_verl.behaviour.sampling import SamplingDistribution, TokenSequence
from pear_verl.cpu_runtime.token_sampler import SamplingRequest, sample_batch
from pear_verl.demo.tiny import save_tiny_model
from pear_verl.evaluation.rl_data import make_game_data


def alternate(first, second, rounds: int = 3) -> tuple[float, float]:
    """Median seconds of `first()` and of `second()`, timed alternately after one warm-up call each."""
    first(), second()
    times = ([], [])
    for _ in range(rounds):
        for fn, out in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    args = parser.parse_args()
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    from pear_verl.behaviour.vllm_backend import VLLMScorer, make_llm

    tmp = Path(tempfile.mkdtemp())
    model_dir = save_tiny_model(tmp / "m", hidden=args.hidden, layers=args.layers, heads=args.hidden // 32)
    make_game_data("knights_knaves", args.prompts, 1, 0, {"n_people": 2, "depth": 1}, tmp / "d")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    prompts = [tuple(tokenizer.apply_chat_template(list(p), add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"])
               for p in pd.read_parquet(tmp / "d" / "train.parquet")["prompt"]]
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    start = time.perf_counter()
    llm = make_llm(str(model_dir), dtype="float32", enforce_eager=True)
    print(f"vLLM engine start (eager, CPU): {time.perf_counter() - start:.1f} s")

    requests = [SamplingRequest(p, max_tokens=args.new_tokens, ignore_eos=True) for p in prompts for _ in range(args.n)]
    params = SamplingParams(n=args.n, max_tokens=args.new_tokens, ignore_eos=True, temperature=1.0)
    token_prompts = [TokensPrompt(prompt_token_ids=list(p)) for p in prompts]
    hf_sample = lambda: sample_batch(model, requests, [tokenizer.eos_token_id], tokenizer.pad_token_id)  # noqa: E731
    vllm_sample = lambda: llm.generate(token_prompts, params, use_tqdm=False)  # noqa: E731
    outputs = vllm_sample()  # the sequences to score below
    t_vllm, t_hf = alternate(vllm_sample, hf_sample)
    samples = len(requests)
    v, h = samples / t_vllm, samples / t_hf
    print(f"rollout: {samples} samples x {args.new_tokens} tokens: vLLM {v:.1f} samples/s, hf {h:.1f} samples/s: ratio {v / h:.2f}")

    sequences = [TokenSequence(torch.tensor(list(o.prompt_token_ids) + list(c.token_ids)),
                               torch.tensor([0] * len(o.prompt_token_ids) + [1] * len(c.token_ids)))
                 for o in outputs for c in o.outputs]
    dist = SamplingDistribution()
    vllm_scorer, hf_scorer = VLLMScorer(llm=llm), HFScorer(str(model_dir), dtype="float32")
    tokens = sum(len(s.input_ids) for s in sequences)
    s_vllm, s_hf = alternate(lambda: vllm_scorer.score(sequences, dist), lambda: hf_scorer.score(sequences, dist))
    v, h = tokens / s_vllm, tokens / s_hf
    print(f"scoring: {len(sequences)} sequences, {tokens} tokens: vLLM {v:,.0f} tokens/s, hf {h:,.0f} tokens/s: ratio {v / h:.2f}")
    print(f"model: Qwen2 hidden {args.hidden}, {args.layers} layers, {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    vllm_scorer.close()


if __name__ == "__main__":
    main()
