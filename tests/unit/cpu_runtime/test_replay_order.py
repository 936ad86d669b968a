"""The canonical batch order: a function of the rows alone, and the replay buffer verl loads for it."""

import random

import pytest
from omegaconf import OmegaConf

from pear_verl.cpu_runtime.grpo import REPLAY_ORDER, cpu_grpo_overrides
from pear_verl.cpu_runtime.replay_order import CanonicalOrderReplayBuffer, canonical_order


def test_any_arrival_order_gives_the_same_batch():
    rng = random.Random(0)
    prompts = [[rng.randrange(9) for _ in range(rng.randint(1, 4))] for _ in range(6)]
    rows = [(p, [rng.randrange(3) for _ in range(rng.randint(0, 3))]) for p in prompts for _ in range(4)]
    ordered = None
    for _ in range(5):
        rng.shuffle(rows)
        order = canonical_order([p for p, _ in rows], [r for _, r in rows])
        batch = [rows[i] for i in order]
        assert all(batch[i] <= batch[i + 1] for i in range(len(batch) - 1))  # lexicographic: prompt, then response
        ordered = ordered or batch
        assert batch == ordered


def test_verl_loads_it_from_the_hf_overrides():
    from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer
    from verl.utils.import_utils import load_extern_object

    overrides = cpu_grpo_overrides("hf")
    assert f"trainer.v1.sampler.custom_sampler.path={REPLAY_ORDER[0]}" in overrides
    assert "actor_rollout_ref.rollout.full_determinism=True" in overrides
    cls = load_extern_object(*REPLAY_ORDER)
    assert cls is CanonicalOrderReplayBuffer and issubclass(cls, ReplayBuffer)
    with pytest.raises(ValueError, match="trainer_mode=colocate_async"):
        cls("colocate_async", OmegaConf.create({}), None, "drop", OmegaConf.create({}))
