"""A verl replay buffer that hands each training batch over in a canonical order: by prompt, then response.

Why: in verl 0.9's trainer (`verl.trainer.ppo.v1`), finished rollouts reach the replay buffer in the order
they complete, and a batch keeps that order through `balance_batch` (one data-parallel rank keeps its
indices sorted) into the PPO mini-batches. So which samples share an optimizer update depended on thread
timing, and two GRPO runs with the same seed diverged even with identical samples. Sorting the batch by
its token ids (prompt, then response) makes the order a function of the samples alone. Only rows with the
same prompt *and* response can tie, and those differ at most in their group label (a prompt drawn twice
in one batch).

How: `trainer.v1.sampler.custom_sampler.{path,name}` is verl's own hook for a replay buffer subclass;
`pear_verl.cpu_runtime.grpo.cpu_grpo_overrides('hf')` sets it, with the hf rollout's per-request seeds.
verl passes a custom sampler no DAPO settings, so `algorithm.filter_groups` does not apply with it.

Run: used by verl's trainer through the override above; tests/unit/cpu_runtime/test_replay_order.py.
"""

from __future__ import annotations

import transfer_queue as tq
from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer

NAME = "CanonicalOrderReplayBuffer"


def canonical_order(prompts: list[list[int]], responses: list[list[int]]) -> list[int]:
    """Indices that sort the rows by (prompt ids, response ids)."""
    return sorted(range(len(prompts)), key=lambda i: (prompts[i], responses[i]))


class CanonicalOrderReplayBuffer(ReplayBuffer):
    """verl's synchronous replay buffer, whose sampled batches are sorted by prompt and response tokens."""

    def __init__(self, trainer_mode: str, *args, **kwargs):
        if trainer_mode != "sync":
            raise ValueError(f"{NAME} replaces the sync trainer's replay buffer; trainer.v1.trainer_mode={trainer_mode} needs verl's own")
        super().__init__(trainer_mode, *args, **kwargs)

    def sample(self, global_steps: int, partition_id: str, batch_size: int):
        batch, metrics = super().sample(global_steps=global_steps, partition_id=partition_id, batch_size=batch_size)
        data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=["prompts", "responses"])
        rows = [[ids.tolist() for ids in data[field].unbind(0)] for field in ("prompts", "responses")]
        batch.reorder(canonical_order(*rows))
        return batch, metrics
