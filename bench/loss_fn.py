"""Micro-benchmark: PEAR loss vs verl's `sft_loss` on one large jagged micro-batch (forward + backward).

Why: the PEAR weights add segment sums, a cumsum and gathers over every token of a micro-batch; this
shows what that costs next to the plain loss, per variant, with both run in the same process,
interleaved, on the same inputs.

Run: `.venv/bin/python bench/loss_fn.py [--seqs 32] [--max-len 4096] [--repeats 15]`
"""

import argparse
import statistics
import time
from functools import partial

import torch
from verl.utils import tensordict_utils as tu
from verl.workers.utils.losses import sft_loss

from pear_verl.training.losses import PearLossConfig, make_loss_fn
from pear_verl.training.weights import WeightConfig


def jagged_batch(seqs: int, max_len: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(max_len // 4, max_len + 1, (seqs,), generator=gen)
    total = int(lengths.sum())
    values = -torch.rand(total, generator=gen) * 4
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)])
    loss_mask, behavior = [], []
    for n in lengths.tolist():
        m = torch.ones(n, dtype=torch.long)
        m[: n // 5] = 0  # prompt
        loss_mask.append(m)
        behavior.append(-torch.rand(n, generator=gen) * 4)
    data = tu.get_tensordict(
        {
            "loss_mask": torch.nested.as_nested_tensor(loss_mask, layout=torch.jagged),
            "behavior_log_probs": torch.nested.as_nested_tensor(behavior, layout=torch.jagged),
        },
        non_tensor_dict={"dp_size": 1, "batch_num_tokens": int(torch.cat(loss_mask).sum())},
    )
    return values, offsets, data


def time_loss(fn, values, offsets, data) -> float:
    leaf = values.clone().requires_grad_(True)
    start = time.perf_counter()
    loss, _ = fn(model_output={"log_probs": torch.nested.nested_tensor_from_jagged(leaf, offsets)}, data=data)
    loss.backward()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seqs", type=int, default=32)
    parser.add_argument("--max-len", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    values, offsets, data = jagged_batch(args.seqs, args.max_len)
    print(f"jagged batch: {args.seqs} sequences, {values.numel()} tokens, torch threads={torch.get_num_threads()}")
    paper = dict(gamma=0.999, ratio_clip=(-0.08, 0.3), log_weight_clip=(-10.0, 5.0))
    candidates = {
        "verl sft_loss (baseline)": partial(sft_loss, config=None),
        "pear off (nll)": make_loss_fn(PearLossConfig(enable=False)),
        "pear token": make_loss_fn(PearLossConfig(weights=WeightConfig("token", **paper))),
        "pear block B=4": make_loss_fn(PearLossConfig(weights=WeightConfig("block", block_size=4, **paper))),
        "pear sequence": make_loss_fn(PearLossConfig(weights=WeightConfig("sequence", **paper))),
        "pear token + dft": make_loss_fn(PearLossConfig(objective="dft", weights=WeightConfig("token", **paper))),
    }
    times = {name: [] for name in candidates}
    for name, fn in candidates.items():  # warm-up
        time_loss(fn, values, offsets, data)
    for _ in range(args.repeats):  # interleaved, so drift hits every candidate alike
        for name, fn in candidates.items():
            times[name].append(time_loss(fn, values, offsets, data))
    base = statistics.median(times["verl sft_loss (baseline)"])
    print(f"{'loss':28s} {'median ms':>10s} {'ratio':>7s} {'Mtok/s':>8s}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:28s} {med * 1e3:10.2f} {med / base:7.2f} {values.numel() / med / 1e6:8.1f}")


if __name__ == "__main__":
    main()
