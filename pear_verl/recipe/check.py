"""Check a recipe's DRY_RUN plan in one process: settings, every verl call composed, every pear-verl call parsed.

Why: a recipe calls several entry points, each of which imports verl (about 10 s) before it can even parse
its arguments; checking each in its own process took 70 s, one process takes about 10 s. In
DRY_RUN, `recipes/lib.sh` only records each call in a plan file (`STAGE KIND ARGS...`, NUL-separated, each
call ended by a lone RS character); this module checks them all after a single import of verl:
- `settings`: the recipe's variables (`pear_verl.recipe.settings`: values, sizes, unknown variables);
- `files`: user-provided inputs exist;
- `verl`: the hydra config of the entry point is composed with the call's overrides, as `--cfg job` would
  (an unknown or misspelled key fails; `+key=` adds one); the CPU GRPO launcher's call is composed with
  the CPU overrides it adds (`pear_verl.cpu_runtime.grpo`). The composed config's values are checked
  where a wrong one would fail late: the SFT `pear:` block as the trainer reads it, GRPO's prompt +
  response length against the rollout's max_model_len and the dynamic-batching token budgets;
- `pear-verl`: the arguments are parsed by the real `pear-verl` parser (an unknown option fails) and
  checked by the subcommand's own value checks (`pear_verl.cli.check_values`: game and knobs, pass@k);
- `module`: the module imports (e.g. `verl.model_merger`).
It reports every problem (with its stage name), not only the first, and exits 1 if any. The same problem
found in several stages (the two eval stages) is reported once, naming them all.

Run: python -m pear_verl.recipe.check PLAN_FILE   (recipes/lib.sh does, at the end of a dry run)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import sys
from pathlib import Path

# Entry point module -> (package whose config/ folder holds its configs, config name), as in each entry
# point's @hydra.main(config_path="config", config_name=...).
CONFIGS = {
    "verl.trainer.main_ppo": ("verl.trainer", "ppo_trainer"),
    "pear_verl.cpu_runtime.grpo": ("verl.trainer", "ppo_trainer"),  # main_ppo + the CPU overrides
    "pear_verl.sft": ("pear_verl", "pear_sft"),
}


def compose(module: str, overrides: list[str]):
    """Compose `module`'s hydra config with `overrides`; raises on a bad key or value."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if module not in CONFIGS:
        raise ValueError(f"no known hydra config for {module} (known: {sorted(CONFIGS)})")
    if module == "pear_verl.cpu_runtime.grpo":
        from pear_verl.cpu_runtime.grpo import cpu_grpo_overrides

        overrides = [*cpu_grpo_overrides(), *overrides]
    package, name = CONFIGS[module]
    config_dir = Path(importlib.import_module(package).__file__).parent / "config"
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        return hydra_compose(config_name=name, overrides=overrides)


def config_problems(module: str, cfg) -> list[str]:
    """Values of a composed config that would fail only once the job runs."""
    if module == "pear_verl.sft":
        from pear_verl.training.losses import PearLossConfig

        try:
            PearLossConfig.from_config(cfg.get("pear", {}))
        except ValueError as err:
            return [str(err)]
        return []
    length = cfg.data.max_prompt_length + cfg.data.max_response_length
    what = f"data.max_prompt_length + data.max_response_length = {length}"
    rollout, actor = cfg.actor_rollout_ref.rollout, cfg.actor_rollout_ref.actor
    problems = []
    if rollout.get("max_model_len") is not None and rollout.max_model_len < length:
        problems.append(f"{what} > actor_rollout_ref.rollout.max_model_len={rollout.max_model_len}")
    budgets = [("actor_rollout_ref.actor.ppo_max_token_len_per_gpu", actor.use_dynamic_bsz, actor.ppo_max_token_len_per_gpu),
               ("actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu", rollout.log_prob_use_dynamic_bsz,
                rollout.log_prob_max_token_len_per_gpu)]
    for key, dynamic, budget in budgets:
        if dynamic and budget < length:
            problems.append(f"{what} > {key}={budget} (verl's dynamic batching needs one sequence to fit)")
    return problems


def check_pear_verl(args: list[str]) -> None:
    from pear_verl.cli import build_parser, check_values, user_message

    parser = build_parser()
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            parsed = parser.parse_args(args)
    except SystemExit:
        lines = stderr.getvalue().strip().splitlines()
        raise ValueError(lines[-1] if lines else f"pear-verl {' '.join(args)}: arguments not accepted") from None
    try:
        check_values(parsed)
    except (ValueError, KeyError) as err:
        raise ValueError(user_message(err)) from None


def check_call(kind: str, rest: list[str]) -> list[str]:
    """The problems with one recorded call; a call that cannot be checked further raises instead."""
    if kind == "settings":
        from pear_verl.recipe.settings import check_settings

        return check_settings(rest)
    if kind == "files":
        return [f"input {path} does not exist" for path in rest if not Path(path).exists()]
    if kind == "verl":
        return config_problems(rest[0], compose(rest[0], rest[1:]))
    if kind == "pear-verl":
        check_pear_verl(rest)
    elif kind == "module":
        importlib.import_module(rest[0])
    else:
        raise ValueError(f"unknown plan entry kind {kind!r}")
    return []


def read_plan(path: str) -> list[list[str]]:
    """The recorded calls, each as [STAGE, KIND, ARGS...]."""
    words = open(path, encoding="utf-8", errors="surrogateescape").read().split("\0")[:-1]
    calls, current = [], []
    for word in words:
        if word == "\x1e":
            calls.append(current)
            current = []
        else:
            current.append(word)
    return calls


def check_plan(path: str) -> list[str]:
    """Check every recorded call; return the error messages (empty: all good)."""
    stages: dict[str, list[str]] = {}  # problem -> the stages it was found in
    for stage, kind, *rest in read_plan(path):
        try:
            problems = check_call(kind, rest)
        except Exception as err:  # report every bad call, with its stage
            problems = [str(err).strip() or type(err).__name__]
        for problem in problems:
            stages.setdefault(problem, []).append(stage)
    return [f"recipe: {'' if names == ['settings'] else 'stage ' + ', '.join(names) + ': '}{problem}" for problem, names in stages.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan")
    errors = check_plan(parser.parse_args().plan)
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        sys.exit(1)
    print("recipe: every stage's call checked (DRY_RUN)", file=sys.stderr)


if __name__ == "__main__":
    main()
