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
