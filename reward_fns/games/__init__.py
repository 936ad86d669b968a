"""Procedurally generated reasoning games with verifiers, and the open registry they live in.

A game is one class implementing `Game` (generate / prompt / solve / check), registered with
`@register_game`. Third-party packages register theirs through the `pear_verl.games` entry-point
group (`[project.entry-points."pear_verl.games"] mygame = "my_pkg.my_game"`: importing the module
runs its `@register_game`). RL data rows carry `data_source = "game/<name>"` and the puzzle as JSON in
`reward_model.ground_truth`; `reward_fns.compute_score` routes them to `score_game`.

reasoning-gym tasks register as `rg/<task>` when reasoning-gym is installed (reward_fns.games.rg), loaded
only when an `rg/` game or the full list is asked for.

Run: `python -m reward_fns.games` lists the registered games with an example prompt each.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import logging
from importlib.metadata import entry_points

from reward_fns.extract import after_thinking
from reward_fns.games.base import (
    _REGISTRY,
    MAX_ANSWER_CHARS,
    MAX_RESPONSE_CHARS,
    PROMPT_STYLES,
    RG_PREFIX,
    Game,
    Verdict,
    answer_instruction,
    in_range,
    register_game,
)
from reward_fns.result import reward_result

# Game authors import these from here (or from reward_fns.games.base, as the built-in games do).
__all__ = ["MAX_ANSWER_CHARS", "MAX_RESPONSE_CHARS", "PROMPT_STYLES", "RG_PREFIX", "Game", "Verdict", "answer_instruction", "in_range",
           "register_game", "get_game", "game_names", "score_game"]
ENTRY_POINT_GROUP = "pear_verl.games"
BUILTIN_GAMES = ("countdown", "game24", "sudoku", "knights_knaves", "maze", "cryptarithm")
logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _load_all() -> None:
    for name in BUILTIN_GAMES:
        importlib.import_module(f"reward_fns.games.{name}")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception:  # a broken third-party game must not take the others down
            logger.exception("could not load game plugin %r", ep.name)


@functools.lru_cache(maxsize=1)
def _load_reasoning_gym() -> bool:
    """Register the `rg/<task>` games if reasoning-gym is installed. Separate from `_load_all` because
    importing reasoning-gym takes seconds: only `rg/` games and full listings pay for it."""
    if importlib.util.find_spec("reasoning_gym") is None:
        return False
    from reward_fns.games.rg import register_all

    register_all()
    return True


def get_game(name: str) -> Game:
    """The game `name`; the data-source form `game/<name>` (as `games list` prints it) is accepted too."""
    _load_all()
    name = name.removeprefix("game/")
    if name.startswith(RG_PREFIX):
        _load_reasoning_gym()
    if name not in _REGISTRY:
        raise KeyError(f"unknown game {name!r}; registered: {sorted(_REGISTRY)}")
    return _REGISTRY[name]


def game_names(reasoning_gym: bool = True) -> list[str]:
    """Registered games; with `reasoning_gym`, also the `rg/<task>` games when reasoning-gym is installed."""
    _load_all()
    if reasoning_gym:
        _load_reasoning_gym()
    return sorted(_REGISTRY)


@functools.lru_cache(maxsize=8192)
def _puzzle(ground_truth: str) -> dict:
    return json.loads(ground_truth)  # GRPO scores n responses per prompt: parse each puzzle once


def score_game(
    name: str, solution_str, ground_truth, partial_credit: bool = False, format_weight: float = 0.0, thinking: str = "auto"
) -> dict:
    """Reward for one response to a game puzzle: (1 − w)·(1 | partial | 0) + w·format_ok. The answer is read
    after the response's thinking (`thinking`: see `reward_fns.extract.after_thinking`): an <answer> inside
    the think block does not count."""
    if not isinstance(solution_str, str):
        return reward_result(error=f"bad response type: {type(solution_str).__name__}")
    try:
        game = get_game(name)
        puzzle = ground_truth if isinstance(ground_truth, dict) else _puzzle(str(ground_truth))
    except (KeyError, ValueError) as err:
        return reward_result(error=str(err))
    final, error = after_thinking(solution_str, thinking)
    if final is None:
        return reward_result(error=error)
    answer = game.extract_answer(final)
    if answer is None:
        return reward_result(error="no <answer> found")
    verdict = game.check(puzzle, answer)
    acc = 1.0 if verdict.correct else 0.0
    value = acc if verdict.correct or not partial_credit else min(max(verdict.partial, 0.0), 1.0)
    return reward_result((1 - format_weight) * value + format_weight, acc, True, answer)
