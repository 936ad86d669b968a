"""vllm_plugin on vLLM's real CPU GEMM dispatch: without it a CPU linear layer loses its weight after loading
(so verl's weight sync cannot load into it); with it the weight stays and a re-dispatch picks up new weights."""

import torch
from vllm.model_executor.layers import utils

from pear_verl.cpu_runtime.vllm_plugin import keep_weights, register


def linear_layer(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    layer = torch.nn.Module()
    layer.weight = torch.nn.Parameter(torch.randn(64, 32), requires_grad=False)
    layer.bias = None
    return layer


def original_dispatch():
    dispatch = utils.dispatch_cpu_unquantized_gemm
    return getattr(dispatch, "__wrapped__", dispatch)


def test_vllm_drops_the_weight_without_the_plugin():
    layer = linear_layer(0)
    original_dispatch()(layer, remove_weight=True)
    assert layer.weight.numel() == 0  # the hole: verl's sync then fails on a torch.Size([0]) parameter


def test_kept_weight_is_used_and_a_sync_then_redispatch_takes_new_weights():
    layer, x = linear_layer(0), torch.randn(5, 32)
    dispatch = keep_weights(original_dispatch())
    dispatch(layer, remove_weight=True)  # vLLM's call after loading
    assert layer.weight.shape == (64, 32)
    torch.testing.assert_close(layer.cpu_linear(x, layer.weight, None), x @ layer.weight.T)

    new = linear_layer(1).weight
    layer.weight.data.copy_(new)  # what verl's weight loader does on a sync
    dispatch(layer, remove_weight=True)  # verl re-runs process_weights_after_loading
    torch.testing.assert_close(layer.cpu_linear(x, layer.weight, None), x @ new.T)


def test_register_is_found_by_vllm_and_idempotent():
    from vllm.plugins import load_plugins_by_group

    plugins = load_plugins_by_group("vllm.general_plugins")
    assert plugins["pear_verl_cpu"] is register
    before = utils.dispatch_cpu_unquantized_gemm
    try:
        register()
        register()
        patched = utils.dispatch_cpu_unquantized_gemm
        assert patched.__pear_verl_keeps_weights__ and keep_weights(patched) is patched
        assert patched.__wrapped__ is original_dispatch()
    finally:
        utils.dispatch_cpu_unquantized_gemm = before
