"""reasoning-gym tasks as games: every installed reasoning-gym task is the game `rg/<task>`.

Why: reasoning-gym (PyPI `reasoning-gym`, pinned in the `reasoning-gym` extra) has ~100 procedural tasks
with generators and scorers; this adapter makes each one a game of this registry (data with
`pear-verl games make --game rg/<task>`, reward through `compute_score`) without porting them one by one,
and without inheriting the scorers' holes (see `reward_fns.games.rg_fixes`).

How:
- generation (trusted code, in process): reasoning-gym's seeded dataset for the task, built with the
  task's config dataclass; every config field but seed/size is a knob (`--knob min_value=2`). The puzzle
  (= RL ground truth) is {"task", "config", "index", "entry": {question, answer, metadata}}, JSON only
  (tuples in the metadata tagged {"__tuple__": [...]}, as scorers compare them with tuples):
  everything the scorer needs, so a reward worker rebuilds the scorer from it (cached per process)
  without regenerating anything;
- the prompt is reasoning-gym's question plus this project's <answer></answer> instruction;
- checking runs in a sandbox worker (`reward_fns.games.rg_worker`, bounded time and memory, guarded
  against executing text); `acc` is full credit only, `partial` carries reasoning-gym's partial credit.
The adapter registers only when `reasoning_gym` imports (~2 s, paid only by callers of `rg/` games).

Run: `python -m reward_fns.games.rg [task]` prints a task's example prompt, gold answer and the game's verdict on it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import random
import sys
import threading
from typing import Any, Optional

from reward_fns.games.base import RG_PREFIX as PREFIX
from reward_fns.games.base import Game, Verdict, answer_instruction, register_game
from reward_fns.games.rg_fixes import EXCLUDED, GENERATION_FILTERS
from reward_fns.sandbox import BoundedPool

TIMEOUT_S = 2.0  # per check; a scorer past it is killed and the answer gets 0
MEMORY_MB = 1024
MAX_ANSWER_CHARS = 8_000
INSTRUCTION = answer_instruction("in exactly the format the question asks for, and nothing else in the tags.")
# Each draw is one item of one big seeded dataset per config: item i of reasoning-gym's datasets depends on
# (seed, i) only. These tasks build state proportional to `size` at construction, so their index space is
# smaller (fewer distinct puzzles per config); everything else gets a billion.
DATASET_SIZE = {"acre": 20_000, "word_ladder": 20_000, "gsm_symbolic": 100_000, "list_functions": 1_000_000}
DEFAULT_SIZE = 10**9
NOT_KNOBS = ("seed", "size")
MAX_REDRAWS = 100


def _jsonable(value: Any) -> Any:
    """Config defaults as JSON values (tuples -> lists, numpy scalars/arrays -> Python)."""
    return json.loads(json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def _plain(value: Any) -> bool:
    """Only exact JSON types (a str-Enum member is a str, but not a plain one)."""
    if type(value) in (list, tuple):
        return all(_plain(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    return type(value) in (str, int, float, bool, type(None))


def encode(value: Any) -> Any:
    """A reasoning-gym entry as JSON, tuples tagged so that scorers comparing tuples still can."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # numpy arrays and scalars
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, str):
        return str(value)  # numpy str_ -> str
    return value if value is None or isinstance(value, (bool, int, float)) else str(value)


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__tuple__"} and isinstance(value["__tuple__"], list):
            return tuple(decode(v) for v in value["__tuple__"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _config_kwargs(config_cls, config: dict) -> dict:
    """JSON knob values back to what the dataclass expects (a tuple field given as a list -> tuple)."""
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    out = {}
    for key, value in config.items():
        default = fields[key].default
        out[key] = tuple(value) if isinstance(value, list) and isinstance(default, tuple) else value
    return out


@functools.lru_cache(maxsize=64)
def _dataset(task: str, config_json: str, for_scoring: bool = False):
    """The task's dataset for a config (cached per process). Scoring needs only the config: size 1."""
    from reasoning_gym.factory import DATASETS, create_dataset

    config_cls = DATASETS[task][1]
    size = 1 if for_scoring else DATASET_SIZE.get(task, DEFAULT_SIZE)
    return create_dataset(task, seed=0, size=size, **_config_kwargs(config_cls, json.loads(config_json)))


_POOL: Optional[BoundedPool] = None
_POOL_LOCK = threading.Lock()


def pool() -> BoundedPool:
    """The sandbox pool for reasoning-gym scorers (one per process; the zygote imports reasoning-gym once)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = BoundedPool("reward_fns.games.rg_worker:score", memory_mb=MEMORY_MB, warmup_args=(None, None, None, None))
        return _POOL


class RGGame(Game):
    """One reasoning-gym task. Subclassed per task by `register_all` (the registry holds classes' instances)."""

    task: str
    config_cls: type
    max_answer_chars = MAX_ANSWER_CHARS  # move lists and partitions run long; puzzles with longer golds are redrawn

    def _config(self, knobs: dict) -> dict:
        unknown = sorted(set(knobs) - set(self.knobs))
        if unknown:
            raise ValueError(f"game {self.name!r} has no knob(s) {unknown}; knobs: {sorted(self.knobs)}")
        return {**self.knobs, **_jsonable(knobs)}

    def check_knobs(self, knobs: dict) -> dict:
        """Knob names checked here, values by reasoning-gym's own config validation (its asserts)."""
        config = self._config(knobs)
        try:
            built = self.config_cls(**_config_kwargs(self.config_cls, config))
            if hasattr(built, "validate"):
                built.validate()
        except Exception as err:
            raise ValueError(f"game {self.name!r}: reasoning-gym refused knobs {knobs}: {type(err).__name__}: {err}") from None
        return config

    def generate(self, rng: random.Random, **knobs) -> dict:
        config = self._config(knobs)
        try:
            dataset = _dataset(self.task, json.dumps(config, sort_keys=True))
        except Exception as err:  # reasoning-gym validates configs with asserts: name the game and knobs
            raise ValueError(f"game {self.name!r}: reasoning-gym refused knobs {knobs}: {type(err).__name__}: {err}") from err
        task_keep = GENERATION_FILTERS.get(self.task, lambda entry: True)

        def keep(entry: dict) -> bool:
            return len(str(entry["answer"])) <= MAX_ANSWER_CHARS and task_keep(entry)

        for _ in range(MAX_REDRAWS):
            index = rng.randrange(dataset.size)
            item = dataset[index]
            entry = {key: encode(item[key]) for key in ("question", "answer", "metadata")}
            if keep(entry):
                return {"task": self.task, "config": config, "index": index, "entry": entry}
        raise ValueError(f"game {self.name!r}: no usable puzzle in {MAX_REDRAWS} draws with config {config}")

    def canonical(self, puzzle: dict) -> str:
        """The question itself (with task and config): reasoning-gym draws the same question at many indices
        (300 coin_flip draws held 171 distinct questions), so splits are kept disjoint on the text asked."""
        return json.dumps([puzzle["task"], puzzle["config"], puzzle["entry"]["question"]], sort_keys=True)

    def prompt(self, puzzle: dict) -> str:
        return f"{puzzle['entry']['question'].rstrip()}\n\n{INSTRUCTION}"

    def solve(self, puzzle: dict) -> str:
        answer = puzzle["entry"]["answer"]
        if not isinstance(answer, str):
            raise ValueError(f"{self.name}: the task has no gold answer")
        return answer

    def check(self, puzzle: dict, answer: str) -> Verdict:
        if not isinstance(puzzle, dict) or puzzle.get("task") != self.task or not isinstance(puzzle.get("entry"), dict):
            return Verdict(False)
        config = puzzle.get("config")
        if not isinstance(config, dict) or set(config) - set(self.knobs):
            return Verdict(False)
        outcome = pool().call(self.task, config, puzzle["entry"], answer, timeout_s=TIMEOUT_S)
        if not outcome.ok or not isinstance(outcome.value, (list, tuple)):
            return Verdict(False)
        full, partial = outcome.value
        return Verdict(bool(full), float(partial))


def task_names() -> list[str]:
    """Every installed reasoning-gym task, excluded ones included (sorted)."""
    from reasoning_gym.factory import DATASETS

    return sorted(DATASETS)


@functools.lru_cache(maxsize=1)
def register_all() -> tuple[str, ...]:
    """Register `rg/<task>` for every installed task not in `EXCLUDED`; returns the registered names."""
    from reasoning_gym.factory import DATASETS

    names = []
    for task in task_names():
        if task in EXCLUDED:
            continue
        config_cls = DATASETS[task][1]
        knobs = {}
        for f in dataclasses.fields(config_cls):
            if f.name in NOT_KNOBS or (f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING):
                continue
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            if _plain(default):  # fields with non-JSON defaults (enums, objects) keep them: not knobs
                knobs[f.name] = _jsonable(default)
        cls = type(f"RG_{task}", (RGGame,), {"name": PREFIX + task, "task": task, "config_cls": config_cls, "knobs": knobs})
        register_game(cls)
        names.append(cls.name)
    return tuple(names)


if __name__ == "__main__":  # python -m reward_fns.games.rg [task]: one puzzle, its prompt, gold answer and verdict
    from reward_fns.games.base import _REGISTRY

    register_all()
    game = _REGISTRY[PREFIX + (sys.argv[1] if len(sys.argv) > 1 else "puzzle24")]
    puzzle = game.generate(random.Random(0))
    print(game.prompt(puzzle), "\n\ngold:", game.solve(puzzle))
    print(game.check(puzzle, game.solve(puzzle)))
