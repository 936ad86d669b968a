"""Verifiable rewards for verl GRPO: math answers and procedurally generated reasoning games.

verl entry point (put on the command line of `verl.trainer.main_ppo`):
    reward.custom_reward_function.path=pkg://reward_fns      (or the file: /path/to/reward_fns/__init__.py)
    reward.custom_reward_function.name=compute_score
Options travel in `+reward.custom_reward_function.reward_kwargs.<name>=<value>` (see `compute_score`).

Dispatch on `data_source`: "game/<name>" -> the registered game `<name>` (reward_fns.games); anything
else -> the math checker (reward_fns.math_answer). Every call returns the same keys
("score", "acc", "format_ok", "pred", "error") and never raises: a checker must not crash the RL loop.
"""

from __future__ import annotations

import logging
import os
import sys

if __name__ != "reward_fns":
    # Loaded by file path (`reward.custom_reward_function.path=/path/to/reward_fns/__init__.py`, which verl
    # imports under another module name): make the package this file belongs to importable, ahead of any
    # installed copy, so that the imports below and the sandbox's worker processes find these very files.
    _ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if sys.path[:1] != [_ROOT]:
        sys.path.insert(0, _ROOT)

from reward_fns.result import reward_result  # noqa: E402

GAME_PREFIX = "game/"
logger = logging.getLogger(__name__)


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict:
    """Score one response.

    Keyword options (all optional): both — `thinking` ("auto" default, "required", "off": where the answer
    is read in a thinking model's response, `reward_fns.extract.after_thinking`; a row's
    `extra_info["thinking"]` overrides it), `format_weight` (0..1); math — `answer_fallbacks` (list of
    "answer_line", "formula", "last_number"; default the first two), `timeout_s` (per check, default 0.8),
    `memory_mb` (per checker process, default 1024); games — `partial_credit` (bool, default False).
    Unknown keyword arguments (verl passes extra ones) are ignored.
    """
    try:
        row = extra_info if isinstance(extra_info, dict) else {}
        thinking = str(row.get("thinking", kwargs.get("thinking", "auto")))
        if isinstance(data_source, str) and data_source.startswith(GAME_PREFIX):
            from reward_fns.games import score_game

            return score_game(
                data_source[len(GAME_PREFIX) :], solution_str, ground_truth,
                partial_credit=bool(kwargs.get("partial_credit", False)),
                format_weight=float(kwargs.get("format_weight", 0.0)),
                thinking=thinking,
            )
        from reward_fns.extract import DEFAULT_FALLBACKS
        from reward_fns.math_answer import DEFAULT_TIMEOUT_S, score_math

        return score_math(
            solution_str, ground_truth,
            answer_fallbacks=tuple(kwargs.get("answer_fallbacks", DEFAULT_FALLBACKS)),
            thinking=thinking,
            format_weight=float(kwargs.get("format_weight", 0.0)),
            timeout_s=float(kwargs.get("timeout_s", DEFAULT_TIMEOUT_S)),
            memory_mb=int(kwargs.get("memory_mb", 1024)),
        )
    except Exception as err:  # a bug or odd input must cost one sample's reward, not the run
        logger.exception("reward_fns: checker failed for data_source=%r", data_source)
        return reward_result(error=f"checker error: {type(err).__name__}: {err}")
