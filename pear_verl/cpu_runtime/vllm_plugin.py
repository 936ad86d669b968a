"""vLLM plugin (`vllm.general_plugins` entry point): let verl update the weights of a CPU vLLM engine.

Why: after loading, vLLM-CPU's `UnquantizedLinearMethod.process_weights_after_loading` calls
`dispatch_cpu_unquantized_gemm(layer, remove_weight=True)` (`vllm/model_executor/layers/utils.py`): it packs
each linear weight for the CPU GEMM kernels and replaces `layer.weight` with an empty tensor. verl's weight
sync (after every GRPO update) loads the new weights into those parameters, and the first sync fails with
"Attempted to load weight (torch.Size([128, 128])) into parameter (torch.Size([0]))". Keeping the weight
(`remove_weight=False`) makes the sync work: verl re-runs `process_weights_after_loading` after each sync,
which packs the new weights again. The cost is one extra copy of the linear weights in RAM.

The patch must run inside vLLM's own processes (engine core, workers), which is what the
`vllm.general_plugins` group is for: vLLM calls `register()` in each of them. It is idempotent and does
nothing on other platforms (GPU vLLM never takes this code path).

Run: nothing to run; installed with pear_verl. `VLLM_PLUGINS` (vLLM's own filter) can switch it off.
"""

from __future__ import annotations

import functools


def keep_weights(dispatch):
    """`dispatch` (vLLM's dispatch_cpu_unquantized_gemm) with `remove_weight` forced to False."""
    if getattr(dispatch, "__pear_verl_keeps_weights__", False):
        return dispatch

    @functools.wraps(dispatch)
    def dispatch_keeping_weight(layer, remove_weight: bool = False, *args, **kwargs):
        return dispatch(layer, False, *args, **kwargs)

    dispatch_keeping_weight.__pear_verl_keeps_weights__ = True
    return dispatch_keeping_weight


def register() -> None:
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        return
    from vllm.model_executor.layers import utils

    # linear.py imports the function from `utils` at call time, so replacing it there is enough.
    utils.dispatch_cpu_unquantized_gemm = keep_weights(utils.dispatch_cpu_unquantized_gemm)
