"""verl plugin entry point (`verl.plugins` group): what pear_verl adds to every process that imports verl.

Why: verl resolves its platform and its rollout backends inside its own processes (torchrun ranks, Ray
workers, the Ray task runner), before any of our code runs there. Loading from verl's entry point makes
these available wherever pear_verl is installed, with no change to the user's launch command:
- the "cpu" platform (`pear_verl.cpu_runtime.cpu_platform`), selected with `VERL_PLATFORM=cpu`;
- the `hf` rollout backend (`pear_verl.cpu_runtime.hf_rollout`): `actor_rollout_ref.rollout.name=hf`;
- on the CPU platform only: verl's FSDP engine registered for device "cpu" and the process-group fix
  for Ray workers (`pear_verl.cpu_runtime.verl_patch`).
verl swallows plugin errors at debug level, so a failure here is logged as a warning instead.
"""

import importlib
import logging
import os

from pear_verl.cpu_runtime import cpu_platform  # registers the "cpu" platform with verl at import


def _register_hf_rollout() -> None:
    """`actor_rollout_ref.rollout.name=hf`: the replica (driver side) and the in-worker adapter.

    Both are resolved lazily: `pear_verl.cpu_runtime.hf_rollout` itself imports verl, so it must not load here."""
    from verl.workers.rollout import base
    from verl.workers.rollout.replica import RolloutReplicaRegistry

    RolloutReplicaRegistry.register("hf", lambda: importlib.import_module("pear_verl.cpu_runtime.hf_rollout").HFReplica)
    base._ROLLOUT_REGISTRY[("hf", "async")] = "pear_verl.cpu_runtime.hf_rollout.HFServerAdapter"


try:
    _register_hf_rollout()
    if os.environ.get("VERL_PLATFORM") == "cpu":
        from pear_verl.cpu_runtime import verl_patch

        verl_patch.install()
        cpu_platform.enable_cpu_engines()
except Exception:  # pragma: no cover - reported, since verl would hide it
    logging.getLogger(__name__).warning("pear_verl plugin: setup failed", exc_info=True)
