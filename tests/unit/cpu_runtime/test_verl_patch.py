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
