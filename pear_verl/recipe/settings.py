"""The recipes' settings (environment variables) checked in one pass, before any stage runs.

Why: a recipe runs for days; a bad value that only its third stage reads (`GAMMA=2`, `DUMP_ROLLOUTS=yes`,
`SFT_OBJECTIVE=foo`, a typo `SFT_EPOCH=2` that is silently ignored) used to surface after the teacher's GPU
hours, or never. Every problem is reported at once, each naming the variable, its value and what is
allowed:
- values: choices, booleans (true/false only), numbers in range, clip pairs, model paths (a local folder
  must exist; a name that looks like a hub id, org/name, is left to the hub);
- sizes that cannot work together: a teacher response (prompt + GEN_MAX_NEW_TOKENS) longer than what SFT
  trains (SFT_MAX_LENGTH), SFT_MAX_LENGTH above verl's dynamic-batching budget (SFT_TOKENS_PER_GPU), and
  prompt + response lengths beyond a local model's context (max_position_embeddings);
- unknown variables with the recipe's own prefixes (`SFT_EPOCH` -> "did you mean SFT_EPOCHS?").
What pear-verl's own calls check (TASK and game knobs, GEN_KEEP) is checked with those calls
(`pear_verl.recipe.check`), not twice.

Run: `python -m pear_verl.recipe.settings NAME=VALUE...` (recipes/lib.sh's `check_settings` does: before
stage 1 in a real run; in DRY_RUN the settings join the plan that `pear_verl.recipe.check` checks).
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from pathlib import Path
from typing import Callable, Mapping

from pear_verl.common import checks
from pear_verl.common.io import model_path_problem
from pear_verl.training.weights import VARIANTS

# Read by recipes/lib.sh (not defined with a default in the recipe).
LIB_VARIABLES = ("DRY_RUN", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "STAGES")
STAGE_NAMES = ("data", "behavior", "preflight", "sft", "grpo", "merge", "eval")
# Any unknown variable starting with one of these is a mistake; others only when close to a known name.
STRICT_PREFIXES = ("SFT_", "GEN_", "GRPO_", "EVAL_", "MATH_", "ROLLOUT_", "PEAR_")


def _choice(*allowed: str) -> Callable:
    return lambda key, text: checks.choice(key, text, allowed)


def _int(low=None, high=None) -> Callable:
    return lambda key, text: checks.number(key, checks.from_text(key, text, "int"), integer=True, low=low, high=high)


def _float(low=None, high=None, low_open=True) -> Callable:
    return lambda key, text: checks.number(key, checks.from_text(key, text, "float"), low=low, high=high, low_open=low_open)


def _bool(key: str, text: str) -> bool:
    return checks.boolean(key, checks.from_text(key, text, "bool"))


def _pair(key: str, text: str):
    return checks.ordered_pair(key, checks.from_text(key, text, "pair"))


def _model(key: str, text: str) -> str:
    problem = model_path_problem(text)
    if problem:
        raise ValueError(f"{key}={text}: {problem}")
    return text


def _ks(key: str, text: str) -> list[int]:
    return [_int(1)(key, word) for word in text.split()] or [_int(1)(key, "")]


RULES: dict[str, Callable] = {
    "SFT_OBJECTIVE": _choice("pear", "sft"), "DEVICE": _choice("cuda", "cpu"), "STUDENT": _model, "TEACHER": _model,
    "VARIANT": _choice(*VARIANTS), "GAMMA": _float(0, 1), "BLOCK_SIZE": _int(1), "RATIO_CLIP": _pair,
    "LOG_WEIGHT_CLIP": _pair, "SELF_NORMALIZE": _bool, "ENFORCE_EAGER": _bool, "DUMP_ROLLOUTS": _bool,
    "NNODES": _int(1), "GPUS_PER_NODE": _int(1),
    "GEN_N": _int(1), "GEN_TEMPERATURE": _float(0), "GEN_MAX_NEW_TOKENS": _int(1), "GEN_PER_PROMPT": _int(1),
    "SFT_LR": _float(0), "SFT_EPOCHS": _int(1), "SFT_BATCH": _int(1), "SFT_MAX_LENGTH": _int(1), "SFT_TOKENS_PER_GPU": _int(1),
    "GRPO_LR": _float(0), "GRPO_BATCH": _int(1), "GRPO_MINI_BATCH": _int(1), "ROLLOUT_N": _int(1), "GRPO_EPOCHS": _int(1),
    "GRPO_SAVE_FREQ": _int(-1), "GRPO_TEST_FREQ": _int(-1),  # verl: -1 turns saving / validation off
    "MAX_PROMPT_LENGTH": _int(1), "MAX_RESPONSE_LENGTH": _int(1), "ROLLOUT_TP": _int(1), "GPU_MEMORY_UTILIZATION": _float(0, 1),
    "EVAL_N": _int(1), "EVAL_K": _ks, "EVAL_TEMPERATURE": _float(0), "EVAL_TOP_P": _float(0, 1),
    "THINKING": _choice("true", "false", "none"), "PREFLIGHT": _bool, "PREFLIGHT_STOP": _bool, "PREFLIGHT_ROWS": _int(1), "DATA_WORKERS": _int(1),
}


def context_length(model: str) -> int | None:
    """max_position_embeddings of a local model folder (None for a hub id or when not stated)."""
    config = Path(model).expanduser() / "config.json"
    if not config.is_file():
        return None
    try:
        data = json.loads(config.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    value = data.get("max_position_embeddings", (data.get("text_config") or {}).get("max_position_embeddings"))
    return value if isinstance(value, int) else None


def size_problems(v: Mapping) -> list[str]:
    """Lengths that cannot work together (`v`: the parsed values of the variables that passed)."""
    problems = []
    if {"MAX_PROMPT_LENGTH", "GEN_MAX_NEW_TOKENS", "SFT_MAX_LENGTH"} <= v.keys():
        longest = v["MAX_PROMPT_LENGTH"] + v["GEN_MAX_NEW_TOKENS"]
        if longest > v["SFT_MAX_LENGTH"]:
            problems.append(
                f"MAX_PROMPT_LENGTH + GEN_MAX_NEW_TOKENS = {v['MAX_PROMPT_LENGTH']} + {v['GEN_MAX_NEW_TOKENS']} = {longest} > "
                f"SFT_MAX_LENGTH={v['SFT_MAX_LENGTH']}: the teacher's longest responses could not be trained; raise "
                "SFT_MAX_LENGTH (and SFT_TOKENS_PER_GPU) or lower GEN_MAX_NEW_TOKENS")
    if {"SFT_MAX_LENGTH", "SFT_TOKENS_PER_GPU"} <= v.keys() and v["SFT_MAX_LENGTH"] > v["SFT_TOKENS_PER_GPU"]:
        problems.append(
            f"SFT_MAX_LENGTH={v['SFT_MAX_LENGTH']} > SFT_TOKENS_PER_GPU={v['SFT_TOKENS_PER_GPU']}: verl's dynamic batching "
            "needs data.max_token_len_per_gpu >= data.max_length (one sample must fit a micro-batch)")
    for model, new_tokens in (("STUDENT", "MAX_RESPONSE_LENGTH"), ("TEACHER", "GEN_MAX_NEW_TOKENS")):
        if {model, "MAX_PROMPT_LENGTH", new_tokens} <= v.keys() and (limit := context_length(v[model])):
            total = v["MAX_PROMPT_LENGTH"] + v[new_tokens]
            if total > limit:
                problems.append(f"MAX_PROMPT_LENGTH + {new_tokens} = {total} > {model}'s context length "
                                f"(max_position_embeddings={limit} in {v[model]}/config.json)")
    return problems


def unknown_variables(known: set[str], environ: Mapping[str, str]) -> list[str]:
    """Environment variables that look like the recipe's but are none of its settings (typos)."""
    known = known | set(LIB_VARIABLES)
    prefixes = {name.split("_")[0] + "_" for name in known if "_" in name}
    problems = []
    for name in sorted(set(environ) - known):
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        if name.startswith(STRICT_PREFIXES) or (close and name.startswith(tuple(prefixes))):
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.append(f"{name}: not a setting of this recipe{hint}")
    return problems


def check_settings(pairs: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    """Every problem with the recipe's settings (`NAME=VALUE` each), as messages naming the variable."""
    settings = dict(pair.partition("=")[::2] for pair in pairs)
    problems, values = [], {}
    for name, text in settings.items():
        if name in RULES:
            try:
                values[name] = RULES[name](name, text)
            except ValueError as err:
                problems.append(str(err))
        else:
            values[name] = text
    if "EVAL_K" in values and "EVAL_N" in values:
        problems += [f"EVAL_K: pass@{k} needs k <= EVAL_N={values['EVAL_N']}" for k in values["EVAL_K"] if k > values["EVAL_N"]]
    return problems + size_problems(values) + stage_problems(environ) + unknown_variables(set(settings), environ)


def stage_problems(environ: Mapping[str, str]) -> list[str]:
    """STAGES names known stages; a worker node (NODE_RANK > 0) runs stage sft only (torchrun's other ranks):
    the other stages belong to node 0, and a second GRPO driver would join the head's Ray cluster."""
    stages = [s for s in environ.get("STAGES", "").split(",") if s]
    problems = [f"STAGES: unknown stage {s!r}; stages: {', '.join(STAGE_NAMES)}" for s in stages if s not in STAGE_NAMES]
    rank = environ.get("NODE_RANK", "0")
    if not rank.isdigit():
        problems.append(f"NODE_RANK={rank!r}: must be an integer >= 0")
    elif int(rank) > 0 and stages != ["sft"]:
        problems.append(f"NODE_RANK={rank}: a worker node runs only the SFT stage; set STAGES=sft (got STAGES={','.join(stages) or 'all'})")
    return problems


def main() -> None:
    problems = check_settings(sys.argv[1:])
    for problem in problems:
        print(f"recipe: {problem}", file=sys.stderr)
    if problems:
        sys.exit(2)


if __name__ == "__main__":
    main()
