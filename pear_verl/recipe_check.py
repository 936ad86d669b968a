"""Check a recipe's DRY_RUN plan in one process: every verl call composed, every pear-verl call parsed.

Why: a recipe calls several entry points, each of which imports verl (about 10 s) before it can even parse
its arguments; checking each in its own process took 70 s, one process takes about 10 s. In
DRY_RUN, `recipes/lib.sh` only records each call in a plan file (`STAGE KIND ARGS...`, NUL-separated, each
call ended by a lone RS character); this module checks them all after a single import of verl:
- `verl`: the hydra config of the entry point is composed with the call's overrides, as `--cfg job` would
  (an unknown or misspelled key fails; `+key=` adds one); the CPU GRPO launcher's call is composed with
  the CPU overrides it adds (`pear_verl.cpu_runtime.grpo`);
- `pear-verl`: the arguments are parsed by the real `pear-verl` parser (an unknown option fails);
- `module`: the module imports (e.g. `verl.model_merger`).
It reports every failing call (with its stage name), not only the first, and exits 1 if any failed.

Run: python -m pear_verl.recipe_check PLAN_FILE   (recipes/lib.sh does, at the end of a dry run)
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


def compose(module: str, overrides: list[str]) -> None:
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
        hydra_compose(config_name=name, overrides=overrides)


def check_pear_verl(args: list[str]) -> None:
    from pear_verl.cli import build_parser

    parser = build_parser()
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(args)
    except SystemExit:
        lines = stderr.getvalue().strip().splitlines()
        raise ValueError(lines[-1] if lines else f"pear-verl {' '.join(args)}: arguments not accepted") from None


def check_call(kind: str, rest: list[str]) -> None:
    if kind == "verl":
        compose(rest[0], rest[1:])
    elif kind == "pear-verl":
        check_pear_verl(rest)
    elif kind == "module":
        importlib.import_module(rest[0])
    else:
        raise ValueError(f"unknown plan entry kind {kind!r}")


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
    errors = []
    for stage, kind, *rest in read_plan(path):
        try:
            check_call(kind, rest)
        except Exception as err:  # report every bad call, with its stage
            message = str(err).strip() or type(err).__name__
            errors.append(f"recipe: stage {stage}: {message}")
    return errors


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
