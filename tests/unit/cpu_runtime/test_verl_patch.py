"""pear_verl.cpu_runtime.verl_patch: the CPU process-group backend fix, and that it reaches verl's importers."""

import importlib

from pear_verl.cpu_runtime.verl_patch import cpu_backend, install


def test_cpu_backend_collapses_only_the_duplicated_cpu_entry():
    assert cpu_backend("cpu:gloo,cpu:gloo") == "gloo"  # what verl builds on the CPU platform
    assert cpu_backend("cpu:gloo") == "gloo"
    assert cpu_backend("cpu:gloo,cuda:nccl") == "cpu:gloo,cuda:nccl"  # GPU platforms: unchanged
    assert cpu_backend(None) is None


def test_install_wraps_verl_and_its_importers_once():
    distributed = importlib.import_module("verl.utils.distributed")
    engine_workers = importlib.import_module("verl.workers.engine_workers")
    install()
    wrapped = distributed.initialize_global_process_group_ray
    assert wrapped.__pear_verl_patched__
    assert engine_workers.initialize_global_process_group_ray is wrapped
    install()  # idempotent: no wrapper around the wrapper
    assert distributed.initialize_global_process_group_ray is wrapped


def test_forward_only_models_shard_on_cpu_with_the_unpinned_offload_policy():
    """verl builds forward-only models (the KL reference) with CPUOffloadPolicy(pin_memory=True); pinning needs
    a GPU driver. After install(), the policy verl imports never pins, and FSDP2 shards with it on CPU."""
    import torch
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import CPUOffloadPolicy, fully_shard

    from pear_verl.cpu_runtime.cpu_platform import init_cpu_process_group

    fsdp_utils = importlib.import_module("verl.utils.fsdp_utils")
    install()
    policy = fsdp_utils.CPUOffloadPolicy(pin_memory=True)  # verl's call
    assert policy.pin_memory is False and isinstance(policy, CPUOffloadPolicy)
    install()  # idempotent
    assert fsdp_utils.CPUOffloadPolicy(pin_memory=True).pin_memory is False
    assert fsdp_utils.CPUOffloadPolicy.__mro__[1] is CPUOffloadPolicy

    init_cpu_process_group()
    try:
        model = torch.nn.Linear(8, 4)
        x = torch.randn(3, 8)
        want = model(x)
        fully_shard(model, mesh=init_device_mesh("cpu", (1,)), offload_policy=policy)
        torch.testing.assert_close(model(x), want)
    finally:
        torch.distributed.destroy_process_group()
