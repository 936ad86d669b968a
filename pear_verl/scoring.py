"""Behaviour log-probs with a HF model: score SFT rows exactly as `PearSFTDataset` tokenises them.

Why: PEAR needs log π_β of every trainable token. Rescoring the exact SFT token sequence with the
behaviour model (one forward pass per sample, "prefill only") is the safe default of PEAR.md; with
temperature τ the sampling distribution is softmax(logits / τ). This module is the in-process core
(used by tests and the demo); `pear-verl score` adds sharding, resume and a vLLM backend on top.

Run: `python -m pear_verl.scoring IN.parquet OUT.parquet --model DIR [--temperature 1.0]`.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from pear_verl.data import BEHAVIOR_KEY, FINGERPRINT_KEY, PearSFTDataset, tokenization_fingerprint
from pear_verl.io import write_parquet_atomic


@torch.no_grad()
def token_log_probs(model, input_ids: torch.Tensor, loss_mask: torch.Tensor, temperature: float = 1.0) -> np.ndarray:
    """log π_β(y_t | y_<t) at every trainable position of one sample.

    Args:
        input_ids, loss_mask: `[L]` as produced by `PearSFTDataset.tokenize`.
    Returns:
        `[loss_mask.sum()]` float32 log-probs, in order.
    """
    if loss_mask[0]:
        raise ValueError("the first token of a sample is trainable, but nothing precedes it to score it")
    device = next(model.parameters()).device
    logits = model(input_ids=input_ids[None].to(device)).logits[0, :-1].float()
    log_probs = torch.log_softmax(logits / temperature, dim=-1)
    targets = input_ids[1:].to(device)
    picked = log_probs.gather(-1, targets[:, None])[:, 0]
    return picked[loss_mask[1:].bool().to(device)].cpu().numpy().astype(np.float32)


def score_dataset(dataset: PearSFTDataset, model, temperature: float = 1.0) -> tuple[list[np.ndarray], list[str]]:
    """(behaviour log-probs, fingerprint) for every row of `dataset`."""
    values, fingerprints = [], []
    for item in tqdm(range(len(dataset)), desc="scoring"):
        sample = dataset.tokenize(item)
        values.append(token_log_probs(model, sample["input_ids"], sample["loss_mask"], temperature))
        fingerprints.append(tokenization_fingerprint(sample["input_ids"], sample["loss_mask"]))
    return values, fingerprints


def score_parquet(in_path, out_path, model_path, temperature: float = 1.0, data_config: dict | None = None) -> None:
    """Add behaviour log-probs + fingerprints (scored by `model_path`) to an SFT parquet."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    config = {"pad_mode": "no_padding", "truncation": "error", **(data_config or {}), "behavior_log_probs_key": None}
    dataset = PearSFTDataset(str(in_path), tokenizer, config)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).eval()
    values, fingerprints = score_dataset(dataset, model, temperature)
    frame = pd.read_parquet(in_path)
    frame[BEHAVIOR_KEY] = [v.tolist() for v in values]
    frame[FINGERPRINT_KEY] = fingerprints
    write_parquet_atomic(frame, out_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("in_path")
    parser.add_argument("out_path")
    parser.add_argument("--model", required=True)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--max-length", type=int, default=1024)
    args = parser.parse_args()
    score_parquet(args.in_path, args.out_path, args.model, args.temperature, {"max_length": args.max_length})


if __name__ == "__main__":
    main()
