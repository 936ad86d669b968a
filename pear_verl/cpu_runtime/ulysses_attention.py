"""Ulysses sequence parallelism on CPU: verl's sequence split, with an sdpa attention that sees the whole row.

Why: verl 0.9.1 implements Ulysses (`engine.ulysses_sequence_parallel_size`) by patching flash-attention's
forward with all-to-alls, and neither exists on a CPU: there is no flash-attention, and gloo has no
all-to-all. With plain sdpa, verl still slices each packed micro-batch across the sequence-parallel ranks,
but nothing exchanges keys and values: every rank attends within its own slice, and the loss is quietly
wrong (step-1 loss off by ~2e-4 relative on a tiny model, measured). Here each rank gathers the row's
queries, keys and values with a differentiable all-gather (gloo has that), runs sdpa over the whole packed
row — causal *within* each sequence, from the gathered position_ids — and keeps its own slice of the
output. The result is what SP = 1 computes (tests/integration/test_sft_layout.py); the cost is each rank
doing the whole row's attention, fine for CPU tests. On GPUs verl's own flash-attention path is used.
Selected by `pear_verl.sft` on CPU when `engine.ulysses_sequence_parallel_size > 1` (`pear_ulysses_sdpa`).

Run: `torchrun --nproc_per_node=2 -m pear_verl.sft trainer.device=cpu engine.ulysses_sequence_parallel_size=2 ...`
"""

from __future__ import annotations

import torch
import torch.distributed as dist

NAME = "pear_ulysses_sdpa"


def packed_causal_mask(position_ids: torch.Tensor) -> torch.Tensor:
    """`[S, S]` bool: query i may see key j iff j <= i and both lie in the same packed sequence (positions
    restart at 0 where a sequence starts). `position_ids`: `[S]`."""
    sequence = torch.cumsum(position_ids == 0, dim=0)
    same = sequence[:, None] == sequence[None, :]
    return torch.tril(same)


def ulysses_sdpa(module, query, key, value, attention_mask, scaling=None, dropout=0.0, position_ids=None, **kwargs):
    """transformers attention interface: `query` `[B, H, S_local, D]` (this rank's slice), returns `[B, S_local, H, D]`."""
    from torch.distributed.nn.functional import all_gather
    from verl.utils.ulysses import (
        get_ulysses_sequence_parallel_group,
        get_ulysses_sequence_parallel_rank,
        get_ulysses_sequence_parallel_world_size,
    )

    if position_ids is None or position_ids.dim() != 2 or position_ids.shape[0] != 1:
        raise ValueError(f"{NAME} needs verl's packed layout (position_ids [1, S]); got {None if position_ids is None else tuple(position_ids.shape)}")
    sp, local = get_ulysses_sequence_parallel_world_size(), query.shape[2]
    if sp > 1:
        group = get_ulysses_sequence_parallel_group()
        query, key, value = (torch.cat(all_gather(x.contiguous(), group=group), dim=2) for x in (query, key, value))
        parts = [torch.empty_like(position_ids) for _ in range(sp)]
        dist.all_gather(parts, position_ids.contiguous(), group=group)
        position_ids = torch.cat(parts, dim=-1)
    groups = query.shape[1] // key.shape[1]
    key, value = key.repeat_interleave(groups, dim=1), value.repeat_interleave(groups, dim=1)
    mask = packed_causal_mask(position_ids[0]).to(query.device)
    out = torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=dropout, scale=scaling)
    if sp > 1:
        start = get_ulysses_sequence_parallel_rank() * local
        out = out[:, :, start : start + local]
    return out.transpose(1, 2).contiguous(), None


def register() -> None:
    from transformers import AttentionInterface

    AttentionInterface.register(NAME, ulysses_sdpa)
