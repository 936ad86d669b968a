"""verl GRPO (`verl.trainer.main_ppo`) on CPU: the overrides it needs and a launcher.

Why: with the CPU platform (`pear_verl.cpu`), the `hf` rollout backend (`pear_verl.rollout`) and the
Ray process-group fix (`pear_verl.verl_patch`), verl's own RL loop runs on a CPU. What remains is
configuration: `CPU_GRPO_OVERRIDES` below, each for a stated reason. The built-in demo and the tests
launch GRPO through `launch_grpo`; on the command line the same run is

    VERL_PLATFORM=cpu python -m verl.trainer.main_ppo algorithm.adv_estimator=grpo \
        actor_rollout_ref.rollout.name=hf <CPU_GRPO_OVERRIDES> data.train_files=... ...

Run: `python -m pear_verl.grpo_cpu --print-overrides` prints the overrides, one per line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pear_verl.io import run_logged

CPU_GRPO_OVERRIDES = [
    "algorithm.adv_estimator=grpo",
    "trainer.device=cpu",
    "actor_rollout_ref.rollout.name=hf",
    # One logical "GPU" per rank: verl's resource pools count GPU bundles (the CPU platform names its
    # resource "GPU"); num_cpus is logical too, because verl starts many small Ray actors.
    "trainer.nnodes=1",
    "trainer.n_gpus_per_node=1",
    "+ray_kwargs.ray_init.num_gpus=1",
    "ray_kwargs.ray_init.num_cpus=32",
    "transfer_queue.backend.SimpleStorage.num_data_storage_units=1",  # default 8 storage actors
    # CPU kernels: FSDP2 in fp32 (no bf16 autocast on CPU), SDPA attention, no compile/remove-padding.
    *[
        override.format(role=role)
        for role in ("actor", "ref")  # the reference model (KL loss) too
        for override in (
            "actor_rollout_ref.{role}.fsdp_config.strategy=fsdp2",
            "actor_rollout_ref.{role}.fsdp_config.use_torch_compile=False",
            "+actor_rollout_ref.{role}.fsdp_config.mixed_precision.param_dtype=fp32",
        )
    ],
    "actor_rollout_ref.actor.strategy=fsdp2",
    "actor_rollout_ref.actor.use_torch_compile=False",
    "actor_rollout_ref.model.use_remove_padding=False",
    "+actor_rollout_ref.model.override_config.attn_implementation=sdpa",
    "actor_rollout_ref.rollout.dtype=float32",
    "actor_rollout_ref.rollout.tensor_model_parallel_size=1",
    "actor_rollout_ref.rollout.agent.num_workers=1",
    "data.dataloader_num_workers=0",
    # Each reward worker is a Ray actor that imports verl (~10 s of CPU each); one keeps start-up short.
    "reward.num_workers=1",
    # The HF export in every checkpoint is what `pear-verl eval` and a later stage load.
    "actor_rollout_ref.actor.checkpoint.save_contents=[model,optimizer,extra,hf_model]",
]


def launch_grpo(run_dir: Path, overrides: list[str]) -> None:
    """Run main_ppo on CPU with `CPU_GRPO_OVERRIDES` + `overrides`.

    Output: `run_dir/ckpt` (checkpoints), `run_dir/metrics.jsonl`, `run_dir/train.log`."""
    cmd = [sys.executable, "-m", "verl.trainer.main_ppo", *CPU_GRPO_OVERRIDES, f"trainer.default_local_dir={run_dir / 'ckpt'}", *overrides]
    print("$ VERL_PLATFORM=cpu python", " ".join(cmd[1:]), flush=True)
    run_logged(cmd, run_dir, {"VERL_PLATFORM": "cpu", "RAY_DEDUP_LOGS": "0"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print-overrides", action="store_true")
    args = parser.parse_args()
    if args.print_overrides:
        print("\n".join(CPU_GRPO_OVERRIDES))


if __name__ == "__main__":
    main()
