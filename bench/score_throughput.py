"""Benchmark: `pear-verl score`'s HF backend vs a bare batched forward over the same tokens, same run.

Why: scoring should cost little more than the forward passes themselves (goal: >= 0.85x the bare
forward's tokens/s). The bare baseline runs the same model on the same length-sorted batches and does
nothing with the logits; the scorer adds tokenisation-independent work only: the sampling-distribution
log-softmax, the gather of trainable tokens and the copy back to the host. Runs alternate, 3 rounds.

Run: `.venv/bin/python bench/score_throughput.py [--rows 64] [--tokens 384] [--hidden 256] [--layers 4]`
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sft_step import long_conversations  # noqa: E402

from pear_verl.behaviour.hf_backend import HFScorer  # noqa: E402
from pear_verl.behaviour.sampling import SamplingDistribution, TokenSequence  # noqa: E402
from pear_verl.demo.tiny import save_tiny_model  # noqa: E402
from pear_verl.training.data import PearSFTDataset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=384)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--max-batch-tokens", type=int, default=8192)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = save_tiny_model(Path(tmp) / "m", hidden=args.hidden, layers=args.layers)
        long_conversations(args.rows, args.tokens).to_parquet(Path(tmp) / "d.parquet", index=False)
        from transformers import AutoTokenizer

        dataset = PearSFTDataset(str(Path(tmp) / "d.parquet"), AutoTokenizer.from_pretrained(model_dir),
                                 {"pad_mode": "no_padding", "max_length": 8192, "behavior_log_probs_key": None})
        samples = [dataset.tokenize(i) for i in range(len(dataset))]
        sequences = [TokenSequence(s["input_ids"], s["loss_mask"]) for s in samples]
        scorer = HFScorer(str(model_dir), max_batch_tokens=args.max_batch_tokens)
        batches = scorer.batches(sequences)
        n_tokens = sum(len(s.input_ids) for s in sequences)

        @torch.no_grad()
        def bare():
            for batch in batches:
                width = max(len(sequences[i].input_ids) for i in batch)
                ids = torch.zeros(len(batch), width, dtype=torch.long)
                mask = torch.zeros(len(batch), width, dtype=torch.long)
                for row, i in enumerate(batch):
                    ids[row, : len(sequences[i].input_ids)] = sequences[i].input_ids
                    mask[row, : len(sequences[i].input_ids)] = 1
                scorer.model(input_ids=ids, attention_mask=mask)

        def scored():
            scorer.score(sequences, SamplingDistribution())

        times = {"bare forward": [], "score (hf)": []}
        bare(), scored()  # warm-up
        for _ in range(3):
            for name, fn in (("bare forward", bare), ("score (hf)", scored)):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
        print(f"{len(sequences)} rows, {n_tokens} tokens, {len(batches)} batches, padding {scorer.padding_fraction:.1%}")
        rates = {name: n_tokens / statistics.median(ts) for name, ts in times.items()}
        for name, r in rates.items():
            print(f"  {name:14s} {r:9.0f} tokens/s")
        print(f"  throughput ratio score/bare: {rates['score (hf)'] / rates['bare forward']:.3f} (goal >= 0.85)")


if __name__ == "__main__":
    main()
