"""Run verl's unmodified SFT trainer on CPU: a verl platform, an engine registration and gloo init.

Why: verl 0.9.1 knows only nvidia/npu/amd platforms and registers its FSDP engines for cuda/npu. Every
piece below plugs into one of verl's own extension points (see docs/cpu_runtime.md); nothing in
verl is patched or forked.

- `PlatformCPU` is registered with verl's `PlatformRegistry` under "cpu" when this module is imported.
  `pear_verl.plugin` (the `verl.plugins` entry point) imports it on `import verl`, so `VERL_PLATFORM=cpu`
  selects it in every process, torchrun ranks and Ray workers alike.
- `enable_cpu_engines()` registers verl's FSDP language-model engine for device "cpu".
- `init_cpu_process_group()` starts torch.distributed with plain gloo (verl's own initialiser builds
  the invalid backend string "cpu:gloo,cpu:gloo").

Run: `VERL_PLATFORM=cpu torchrun --nproc_per_node=2 -m pear_verl.sft trainer.device=cpu ...`
(`pear_verl.sft` calls the functions below when `trainer.device=cpu`; `CPU_OVERRIDES` lists the
overrides the CPU path needs).
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, Optional

import torch
from verl.plugin.platform import PlatformBase, PlatformRegistry

from pear_verl.cpu_runtime import CPU_KV_CACHE_GIB

# Overrides that verl's SFT config needs on CPU (fp32 FSDP2, no flash-attn or compile; packed sequences run on sdpa).
CPU_OVERRIDES = [
    "trainer.device=cpu",
    "engine.strategy=fsdp2",
    "engine.use_torch_compile=False",
    "+model.override_config.attn_implementation=sdpa",
    "data.num_workers=0",
]


def _zero(*_args, **_kwargs) -> int:
    return 0


def _noop(*_args, **_kwargs) -> None:
    return None


# verl calls torch.<device>.X for memory stats, caches and seeding; on CPU these are no-ops or zeros.
# torch.cpu provides the rest (current_device, device_count, synchronize, is_available, Stream...).
_DEVICE_MODULE_EXTRAS = dict(
    current_device=lambda: "cpu",  # an int would make torch look for an accelerator
    get_device_name=lambda *_a: "cpu",  # read by verl's FLOPs counter
    empty_cache=_noop,
    ipc_collect=_noop,
    manual_seed=torch.manual_seed,
    manual_seed_all=torch.manual_seed,
    get_rng_state=lambda *_a: torch.get_rng_state(),
    set_rng_state=lambda state, *_a: torch.set_rng_state(state),
    memory_allocated=_zero,
    memory_reserved=_zero,
    max_memory_allocated=_zero,
    max_memory_reserved=_zero,
    reset_peak_memory_stats=_noop,
    set_per_process_memory_fraction=_noop,
    mem_get_info=lambda *_a: (0, 0),
)


class _CPUDeviceModule(SimpleNamespace):
    """`torch.cpu` plus the CUDA-style functions verl calls on its device module."""

    def __getattr__(self, name: str) -> Any:
        return getattr(torch.cpu, name)


CPU_DEVICE_MODULE = _CPUDeviceModule(**_DEVICE_MODULE_EXTRAS)


@PlatformRegistry.register(platform="cpu")
class PlatformCPU(PlatformBase):
    """verl platform for CPU-only machines: device "cpu", gloo collectives, no profiler."""

    device_name = "cpu"
    vendor_name = "cpu"
    device_module = CPU_DEVICE_MODULE

    def is_available(self) -> bool:
        return True

    def is_platform_available(self, use_smi_check=False) -> bool:
        # Never auto-detected: CPU must be chosen explicitly with VERL_PLATFORM=cpu.
        return False

    def current_device(self) -> str:  # type: ignore[override]
        return "cpu"

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index) -> None:
        return None

    def synchronize(self, device_index: Optional[int] = None) -> None:
        return None

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        return None

    def empty_cache(self) -> None:
        return None

    def get_device_capability(self, device_index: int = 0):
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        return "CUDA_VISIBLE_DEVICES"

    @contextmanager
    def nvtx_range(self, msg: str):
        yield

    def profiler_start(self) -> None:
        return None

    def profiler_stop(self) -> None:
        return None

    def ray_resource_name(self) -> str:
        return "GPU"  # verl's resource pools count logical "GPU"s; see docs/cpu_runtime.md

    def ray_noset_envvars(self) -> list[str]:
        return []

    def is_ipc_supported(self) -> bool:
        return False  # verl then syncs rollout weights over ZMQ + POSIX shared memory (no CUDA IPC, no NCCL)

    def rollout_env_vars(self) -> dict[str, str]:
        # vLLM on CPU sizes its KV cache from VLLM_CPU_KVCACHE_SPACE (GiB); without it, gpu_memory_utilization
        # would be read as a share of system RAM. Set the variable yourself to change the 1 GiB default.
        return {"VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", str(CPU_KV_CACHE_GIB))}

    def cudart(self) -> Any:
        return None


def enable_cpu_engines() -> None:
    """Register verl's FSDP language-model engine for device "cpu" (idempotent)."""
    from verl.workers.engine.base import EngineRegistry
    from verl.workers.engine.fsdp.transformer_impl import FSDPEngineWithLMHead

    for backend in ("fsdp", "fsdp2"):
        registry = EngineRegistry._engines.setdefault("language_model", {}).setdefault(backend, {})
        registry.setdefault("cpu", FSDPEngineWithLMHead)


def init_cpu_process_group(timeout_second: int = 3600) -> tuple[int, int, int]:
    """Initialise torch.distributed with gloo from torchrun's env vars (single process if absent)."""
    os.environ.setdefault("RANK", "0")
    os.environ.setdefault("LOCAL_RANK", "0")
    os.environ.setdefault("WORLD_SIZE", "1")
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    if "MASTER_PORT" not in os.environ:
        with socket.socket() as sock:  # single process without torchrun: any free local port
            sock.bind(("127.0.0.1", 0))
            os.environ["MASTER_PORT"] = str(sock.getsockname()[1])
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend="gloo", timeout=timedelta(seconds=timeout_second))
    return int(os.environ["LOCAL_RANK"]), int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
