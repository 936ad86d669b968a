"""Benchmark: the hf rollout server's batching vs answering verl's requests one at a time, same run.

Why: verl's agent loop sends every sample of a GRPO step as its own concurrent `generate` request
(n samples per prompt = n requests). `HFRolloutServer` gathers them into one `model.generate` call;
the baseline samples them one by one, as a naive per-request server would. Both sample the same
requests (knights-and-knaves prompts, ignore_eos so that every response has `--new-tokens` tokens),
alternating, 3 rounds; the ratio is batched / one-at-a-time requests per second.

Run: `.venv/bin/python bench/rollout_batching.py [--requests 64] [--new-tokens 24] [--hidden 64]`
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from pear_verl.cpu_runtime.token_sampler import SamplingRequest, sample_batch
from pear_verl.demo.tiny import save_tiny_model
from pear_verl.evaluation.rl_data import make_game_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=24)
    parser.add_argument("--hidden", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = save_tiny_model(Path(tmp) / "m", hidden=args.hidden)
        make_game_data("knights_knaves", args.requests, 1, 0, {"n_people": 2, "depth": 1}, Path(tmp) / "d")
        prompts = pd.read_parquet(Path(tmp) / "d" / "train.parquet")["prompt"]
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    requests = [
        SamplingRequest(prompt_ids=tuple(tokenizer.apply_chat_template(list(p), add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]),
                        max_tokens=args.new_tokens, temperature=1.0, logprobs=True, ignore_eos=True)
        for p in prompts
    ]
    stop, pad = [tokenizer.eos_token_id], tokenizer.pad_token_id
    rates = {"batched": [], "one at a time": []}
    for _ in range(3):
        for name in rates:
            start = time.perf_counter()
            if name == "batched":
                sample_batch(model, requests, stop, pad)
            else:
                for request in requests:
                    sample_batch(model, [request], stop, pad)
            rates[name].append(len(requests) / (time.perf_counter() - start))
    prompt_tokens = statistics.mean(len(r.prompt_ids) for r in requests)
    print(f"{len(requests)} requests, {prompt_tokens:.0f} prompt tokens on average, {args.new_tokens} new tokens each, torch threads {torch.get_num_threads()}")
    for name, values in rates.items():
        print(f"{name:>14}: median {statistics.median(values):8.1f} requests/s  (runs: {', '.join(f'{v:.1f}' for v in values)})")
    print(f"ratio batched / one at a time: {statistics.median(rates['batched']) / statistics.median(rates['one at a time']):.1f}")


if __name__ == "__main__":
    main()
