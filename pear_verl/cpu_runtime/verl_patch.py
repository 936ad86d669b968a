"""The two verl internals pear_verl adapts, on the CPU platform only: process-group start-up in Ray workers,
and FSDP2's CPU offload of the reference model.

1. Process groups. verl 0.9.1's `verl.utils.distributed.initialize_global_process_group_ray()` (called by every
Ray training worker of `main_ppo`) builds the backend string `cpu:gloo,<device>:<backend>`. On the CPU
platform that is `cpu:gloo,cpu:gloo`, which torch rejects ("Duplicate device type cpu"), and verl has
no hook to choose the backend. This module wraps that function so a duplicated CPU entry collapses to
plain `gloo`; every other call, and every call on another platform, is passed through unchanged.

The wrapper replaces the function in `verl.utils.distributed` and in the verl modules that imported it
by name (`verl.workers.engine_workers`, `verl.checkpoint_engine.base`), if they are loaded already;
modules loaded later pick the wrapper up from `verl.utils.distributed`.

2. Offload. verl's FSDP2 engine builds every forward-only model (the reference model of a KL loss) with
`CPUOffloadPolicy(pin_memory=True)`, whatever the config says; pinning host memory needs a GPU driver
("Found no NVIDIA driver on your system"). On a CPU the offload is moot, so the policy is replaced, where
verl imports it from (`verl.utils.fsdp_utils`, and `verl.workers.engine.fsdp.transformer_impl` if already
loaded), by a subclass that never pins. (Turning `forward_only` off instead makes verl build an optimizer
for the reference model from a config that has none.)

`install()` is idempotent and only runs on the CPU platform (`VERL_PLATFORM=cpu`, from
`pear_verl.plugin`). Delete each part once verl derives it from its platform.

Run: nothing to run; `tests/integration/test_grpo_cpu.py` exercises it through `main_ppo`.
"""

from __future__ import annotations

import dataclasses
import functools
import sys

IMPORTERS = ("verl.utils.distributed", "verl.workers.engine_workers", "verl.checkpoint_engine.base")
OFFLOAD_IMPORTERS = ("verl.utils.fsdp_utils", "verl.workers.engine.fsdp.transformer_impl")


def cpu_backend(backend: str | None) -> str | None:
    """`backend` with duplicate `cpu:` entries removed; `cpu:gloo` alone becomes `gloo`."""
    if backend is None:
        return None
    entries = list(dict.fromkeys(part.strip() for part in backend.split(",")))
    return "gloo" if entries == ["cpu:gloo"] else ",".join(entries)


def unpinned_offload_policy(policy_class):
    """A `CPUOffloadPolicy` subclass whose `pin_memory` is always False (instances still pass isinstance)."""
    if getattr(policy_class, "__pear_verl_unpinned__", False):
        return policy_class

    @dataclasses.dataclass
    class UnpinnedCPUOffloadPolicy(policy_class):
        __pear_verl_unpinned__ = True

        def __post_init__(self):
            self.pin_memory = False

    return UnpinnedCPUOffloadPolicy


def install() -> None:
    import verl.utils.fsdp_utils  # noqa: F401  (where verl's engines import CPUOffloadPolicy from)

    for name in OFFLOAD_IMPORTERS:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "CPUOffloadPolicy", None) is not None:
            module.CPUOffloadPolicy = unpinned_offload_policy(module.CPUOffloadPolicy)
    _install_backend_fix()


def _install_backend_fix() -> None:
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
