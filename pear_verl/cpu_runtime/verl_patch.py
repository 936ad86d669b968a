"""The one verl internal pear_verl adapts: process-group start-up in CPU Ray workers.

Why: verl 0.9.1's `verl.utils.distributed.initialize_global_process_group_ray()` (called by every
Ray training worker of `main_ppo`) builds the backend string `cpu:gloo,<device>:<backend>`. On the CPU
platform that is `cpu:gloo,cpu:gloo`, which torch rejects ("Duplicate device type cpu"), and verl has
no hook to choose the backend. This module wraps that function so a duplicated CPU entry collapses to
plain `gloo`; every other call, and every call on another platform, is passed through unchanged.

The wrapper replaces the function in `verl.utils.distributed` and in the verl modules that imported it
by name (`verl.workers.engine_workers`, `verl.checkpoint_engine.base`), if they are loaded already;
modules loaded later pick the wrapper up from `verl.utils.distributed`. `install()` is idempotent and
only runs on the CPU platform (`VERL_PLATFORM=cpu`, from `pear_verl.plugin`). Delete this module
once verl derives the backend from its platform.

Run: nothing to run; `tests/integration/test_grpo_cpu.py` exercises it through `main_ppo`.
"""

from __future__ import annotations

import functools
import sys

IMPORTERS = ("verl.utils.distributed", "verl.workers.engine_workers", "verl.checkpoint_engine.base")


def cpu_backend(backend: str | None) -> str | None:
    """`backend` with duplicate `cpu:` entries removed; `cpu:gloo` alone becomes `gloo`."""
    if backend is None:
        return None
    entries = list(dict.fromkeys(part.strip() for part in backend.split(",")))
    return "gloo" if entries == ["cpu:gloo"] else ",".join(entries)


def install() -> None:
    import verl.utils.distributed as distributed

    original = distributed.initialize_global_process_group_ray
    if getattr(original, "__pear_verl_patched__", False):
        return

    @functools.wraps(original)
    def initialize_global_process_group_ray(timeout_second=None, backend=None):
        from verl.utils.device import get_device_name, get_nccl_backend

        backend = backend or f"cpu:gloo,{get_device_name()}:{get_nccl_backend()}"
        return original(timeout_second=timeout_second, backend=cpu_backend(backend))

    initialize_global_process_group_ray.__pear_verl_patched__ = True
    for name in IMPORTERS:
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "initialize_global_process_group_ray"):
            module.initialize_global_process_group_ray = initialize_global_process_group_ray
