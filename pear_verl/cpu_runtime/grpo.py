"""verl GRPO (`verl.trainer.main_ppo`) on CPU: the overrides it needs, per rollout backend, and a launcher.

Why: with the CPU platform (`cpu_platform`), the process-group fix for Ray workers (`verl_patch`) and, for
vLLM rollouts, the vLLM plugin (`vllm_plugin`), verl's own RL loop runs on a CPU with either rollout
backend: `vllm` (verl's own vLLM rollout, on vLLM's CPU build: what GPU users run) or `hf` (this project's
`hf_rollout`, transformers only). What remains is configuration: `cpu_grpo_overrides()` below, each for a
stated reason. User overrides come after them, so they win. The same command joins a Ray cluster made with
`ray start` when RAY_ADDRESS names it (docs/scale.md): the environment above then reaches the workers through
the job's runtime_env, and the logical CPUs and GPUs are the ones each node declared.

The launcher runs `verl.trainer.main_ppo` unchanged, as a child process, with `VERL_PLATFORM=cpu`, and
afterwards removes the shared-memory segments that vLLM's and verl's processes leaked (`shm_guard`), also
when the run failed or was interrupted.

Run:
    python -m pear_verl.cpu_runtime.grpo --rollout vllm -- data.train_files=... actor_rollout_ref.model.path=...
    python -m pear_verl.cpu_runtime.grpo --rollout vllm --print-overrides   # the overrides, one per line
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pear_verl.common.io import run_logged
from pear_verl.cpu_runtime.shm_guard import run_guarded, shm_guard

# pear_verl.cpu_runtime.replay_order (not imported here: it imports verl's trainer)
REPLAY_ORDER = ("pkg://pear_verl.cpu_runtime.replay_order", "CanonicalOrderReplayBuffer")

COMMON_OVERRIDES = [
    "algorithm.adv_estimator=grpo",
    "trainer.device=cpu",
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

ROLLOUT_OVERRIDES = {
    "hf": [
        "actor_rollout_ref.rollout.name=hf",
        # Stable request ids (`det-…`) from verl's agent loops, from which the hf server derives each
        # request's sampling seed: the same seed gives the same rollouts (and GRPO run) on a machine.
        # Not for vllm: there verl gives every request one and the same seed, which would make a prompt's n samples equal.
        "actor_rollout_ref.rollout.full_determinism=True",
        # Batches in a canonical order (prompt, response), not the order rollouts finish in (`replay_order`).
        f"trainer.v1.sampler.custom_sampler.path={REPLAY_ORDER[0]}",
        f"trainer.v1.sampler.custom_sampler.name={REPLAY_ORDER[1]}",
    ],
    "vllm": [
        "actor_rollout_ref.rollout.name=vllm",
        # vLLM refuses sleep mode on CPU ("Sleep mode is not supported on current platform"); weights stay in RAM.
        "+actor_rollout_ref.rollout.enable_sleep_mode=False",  # a dataclass field, not in verl's yaml
        # No torch.compile of the model: compiling costs about a minute per engine start on CPU.
        "actor_rollout_ref.rollout.enforce_eager=True",
        # The weight-sync bucket is a /dev/shm segment on CPU (no CUDA IPC): verl's default of 2048 MB is
        # 2 GB of RAM per sync, left behind if a run dies mid-sync. Weights larger than a bucket are sent alone.
        "actor_rollout_ref.rollout.checkpoint_engine.update_weights_bucket_megabytes=256",
        # The KV cache is sized by the CPU platform's rollout_env_vars() (VLLM_CPU_KVCACHE_SPACE, GiB):
        # on CPU, gpu_memory_utilization would be a share of system RAM.
    ],
}


# The CPU platform in every verl process; Ray prints every worker's lines (no "repeated Nx" folding).
CPU_ENV = {"VERL_PLATFORM": "cpu", "RAY_DEDUP_LOGS": "0"}

# On a cluster named by RAY_ADDRESS (`ray start --head` / `ray start --address`), each node declares its logical
# CPUs and GPUs with `ray start --num-cpus/--num-gpus`, and ray.init refuses them ("When connecting to an
# existing cluster, num_cpus and num_gpus must not be provided").
JOIN_CLUSTER_OVERRIDES = ["ray_kwargs.ray_init.num_cpus=null", "ray_kwargs.ray_init.num_gpus=null"]


def worker_env_overrides(env: dict[str, str]) -> list[str]:
    """`env` for every Ray worker, through the job's runtime_env: on a cluster made with `ray start`, workers
    inherit their node's environment, not the launcher's (on the cluster main_ppo starts itself, both agree)."""
    # Quoted: Ray takes only string values, and hydra would read "0" as an int.
    return [f"+ray_kwargs.ray_init.runtime_env.env_vars.{key}='{value}'" for key, value in env.items()]


def cpu_grpo_overrides(rollout: str = "vllm") -> list[str]:
    if rollout not in ROLLOUT_OVERRIDES:
        raise ValueError(f"rollout must be one of {sorted(ROLLOUT_OVERRIDES)}, got {rollout!r}")
    joined = JOIN_CLUSTER_OVERRIDES if os.environ.get("RAY_ADDRESS") else []
    return [*COMMON_OVERRIDES, *ROLLOUT_OVERRIDES[rollout], *worker_env_overrides(CPU_ENV), *joined]


def grpo_command(overrides: list[str], rollout: str = "vllm") -> list[str]:
    return [sys.executable, "-m", "verl.trainer.main_ppo", *cpu_grpo_overrides(rollout), *overrides]


def launch_grpo(run_dir: Path, overrides: list[str], rollout: str = "vllm") -> None:
    """Run main_ppo on CPU (logs and metrics in `run_dir`, see `io.run_logged`), leaking no shared memory.

    Output: `run_dir/ckpt` (checkpoints), `run_dir/metrics.jsonl`, `run_dir/train.log`."""
    # run_logged points verl's file logger (in the TaskRunner, a Ray worker) at run_dir/metrics.jsonl.
    logger_env = worker_env_overrides({"VERL_FILE_LOGGER_PATH": str(run_dir / "metrics.jsonl")})
    cmd = grpo_command([f"trainer.default_local_dir={run_dir / 'ckpt'}", *logger_env, *overrides], rollout)
    print("$ VERL_PLATFORM=cpu python", " ".join(cmd[1:]), flush=True)
    with shm_guard():
        run_logged(cmd, run_dir, CPU_ENV)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollout", default="vllm", choices=sorted(ROLLOUT_OVERRIDES))
    parser.add_argument("--print-overrides", action="store_true", help="print the CPU overrides and exit")
    parser.add_argument("overrides", nargs="*", help="main_ppo hydra overrides (after --)")
    args = parser.parse_args()
    if args.print_overrides:
        print("\n".join(cpu_grpo_overrides(args.rollout)))
        return
    sys.exit(run_guarded(grpo_command(args.overrides, args.rollout), env={**os.environ, **CPU_ENV}))


if __name__ == "__main__":
    main()
