"""Entry point: PEAR SFT with verl's SFT trainer. A drop-in for `python -m verl.trainer.sft_trainer`.

Why its own entry point: verl's `run_sft` builds the plain `SFTTrainer` and cannot start on CPU.
This one builds `PearSFTTrainer` and, for `trainer.device=cpu`, selects pear_verl's CPU platform,
applies the CPU-only settings (`pear_verl.cpu_runtime.cpu_platform.CPU_OVERRIDES`, logged) and starts gloo.

Run (GPU, 8 ranks):
    torchrun --nproc_per_node=8 -m pear_verl.sft model.path=Qwen/Qwen3-1.7B-Base \
        data.train_files=train.parquet pear.variant=token
Run (CPU, 2 ranks):
    torchrun --nproc_per_node=2 -m pear_verl.sft trainer.device=cpu model.path=... data.train_files=...
Config: `pear_verl/config/pear_sft.yaml` (verl's `sft_trainer_engine` + a `pear:` block).
"""

from __future__ import annotations

import logging
import os
import sys

import hydra
from omegaconf import DictConfig, open_dict

logger = logging.getLogger(__name__)

# Settings the CPU path cannot do without: no torch.compile on the FSDP path, FSDP2 (the path verl's CPU
# run was verified on), and no flash-attn: attention is torch's sdpa unless another CPU implementation is
# named. Packed sequences (`model.use_remove_padding=True`, verl's GPU default) stay as configured: with
# sdpa/eager, transformers masks attention per packed sequence from the restarting position_ids
# (tests/integration/test_sft_layout.py checks the packed path against the padded one).
_CPU_REQUIRED = {
    "engine.strategy": "fsdp2",
    "engine.use_torch_compile": False,
}
_GPU_ONLY_ATTENTION = ("flash_attention_2", "flash_attention_3")


def apply_cpu_settings(config: DictConfig) -> None:
    """Force the CPU-required settings, logging each one that changes."""
    with open_dict(config):
        attention = (config.model.get("override_config") or {}).get("attn_implementation")
        required = dict(_CPU_REQUIRED)
        builtin = attention is None or attention in (*_GPU_ONLY_ATTENTION, "sdpa", "eager")
        if builtin and (config.engine.get("ulysses_sequence_parallel_size") or 1) > 1:
            # verl's Ulysses patches flash-attention only; on CPU its all-to-alls go into an sdpa attention.
            from pear_verl.cpu_runtime import ulysses_attention

            ulysses_attention.register()
            required["model.override_config.attn_implementation"] = ulysses_attention.NAME
        elif attention is None or attention in _GPU_ONLY_ATTENTION:
            required["model.override_config.attn_implementation"] = "sdpa"
        for dotted, value in required.items():
            *parents, leaf = dotted.split(".")
            node = config
            for name in parents:
                if node.get(name) is None:
                    node[name] = {}
                node = node[name]
            if node.get(leaf) != value:
                logger.warning("trainer.device=cpu: setting %s=%s (was %s)", dotted, value, node.get(leaf))
                node[leaf] = value


def run_pear_sft(config: DictConfig) -> None:
    """Start the process group, train, tear down: verl's `run_sft` with our trainer (and CPU)."""
    from verl.utils.distributed import destroy_global_process_group, initialize_global_process_group

    from pear_verl.training.checkpoints import check_same_data, merge_lora_on_save
    from pear_verl.training.trainer import PearSFTTrainer

    if config.trainer.device == "cpu":
        from pear_verl.cpu_runtime.cpu_platform import enable_cpu_engines, init_cpu_process_group

        apply_cpu_settings(config)
        enable_cpu_engines()
        init_cpu_process_group()
    else:
        initialize_global_process_group()
    check_same_data(config.data)
    trainer = PearSFTTrainer(config=config)
    merge_lora_on_save(trainer)
    trainer.fit()
    destroy_global_process_group()


@hydra.main(config_path="config", config_name="pear_sft", version_base=None)
def main(config: DictConfig) -> None:
    from pear_verl.training.losses import PearLossConfig

    try:  # a bad `pear:` value is one line naming the key, before anything starts
        PearLossConfig.from_config(config.get("pear", {}))
    except ValueError as err:
        sys.exit(f"pear_verl.sft: error: {err}")
    if config.trainer.device == "cpu":
        # Must precede the first platform lookup (auto_set_device below), which verl caches.
        os.environ.setdefault("VERL_PLATFORM", "cpu")
    from verl.utils.device import auto_set_device, get_device_name

    auto_set_device(config)
    if config.trainer.device == "cpu" and get_device_name() != "cpu":
        raise RuntimeError(f"trainer.device=cpu but verl's platform is {get_device_name()!r}; unset VERL_PLATFORM")
    run_pear_sft(config)


if __name__ == "__main__":
    main()
