"""The CPU GRPO overrides compose against verl's real main_ppo config, and the CPU platform's hooks."""

import pytest

from pear_verl.cpu_runtime.cpu_platform import PlatformCPU
from pear_verl.cpu_runtime.grpo import cpu_grpo_overrides
from pear_verl.recipe.check import compose


@pytest.mark.parametrize("rollout", ["vllm", "hf"])
def test_overrides_compose_with_verl_main_ppo(rollout):
    overrides = cpu_grpo_overrides(rollout)
    assert f"actor_rollout_ref.rollout.name={rollout}" in overrides
    compose("verl.trainer.main_ppo", overrides)


def test_vllm_rollout_disables_sleep_mode_and_bounds_the_sync_bucket():
    overrides = cpu_grpo_overrides("vllm")
    assert "+actor_rollout_ref.rollout.enable_sleep_mode=False" in overrides
    assert "actor_rollout_ref.rollout.checkpoint_engine.update_weights_bucket_megabytes=256" in overrides


def test_unknown_rollout_is_refused():
    with pytest.raises(ValueError, match="rollout must be one of"):
        cpu_grpo_overrides("sglang")


def test_platform_hook_sizes_the_vllm_kv_cache(monkeypatch):
    """verl passes rollout_env_vars() to its vLLM server actors (test_recipe_cpu.py runs them with it)."""
    monkeypatch.delenv("VLLM_CPU_KVCACHE_SPACE", raising=False)
    assert PlatformCPU().rollout_env_vars() == {"VLLM_CPU_KVCACHE_SPACE": "1"}
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "4")
    assert PlatformCPU().rollout_env_vars() == {"VLLM_CPU_KVCACHE_SPACE": "4"}


def test_joining_a_ray_cluster_leaves_resources_to_the_nodes(monkeypatch):
    """With RAY_ADDRESS, ray.init must get no num_cpus/num_gpus; the CPU platform reaches every worker via runtime_env."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    local = compose("verl.trainer.main_ppo", cpu_grpo_overrides("hf")).ray_kwargs.ray_init
    assert (local.num_cpus, local.num_gpus) == (32, 1)
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:6379")
    joined = compose("verl.trainer.main_ppo", cpu_grpo_overrides("hf")).ray_kwargs.ray_init
    assert (joined.num_cpus, joined.num_gpus) == (None, None)
    for ray_init in (local, joined):
        assert ray_init.runtime_env.env_vars == {"VERL_PLATFORM": "cpu", "RAY_DEDUP_LOGS": "0"}
