"""What a game is: the `Game` interface, its `Verdict`, knob checks, and the registry games add themselves to.

Why a module of its own: every game module (and third-party ones) imports these, and the package's loader
(`reward_fns.games`) imports the game modules; keeping the shared pieces here means no game imports the
loader that imports it. `reward_fns.games` re-exports all of it, so `from reward_fns.games import Game`
keeps working for game authors.

Run: imported by the game modules; see reward_fns/games/countdown.py for a complete game.
"""

from __future__ import annotations

import json
import math
import random
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

RG_PREFIX = "rg/"  # reasoning-gym tasks (reward_fns.games.rg)
MAX_RESPONSE_CHARS = 200_000  # answers are looked for in the tail only
MAX_ANSWER_CHARS = 2_000
PROMPT_STYLES = ("full", "compact")  # full: instructions in words; compact: the puzzle only (small models)


@dataclass(frozen=True)
class Verdict:
    correct: bool
    partial: float = 0.0  # share of the answer that is right, in [0, 1]; used with partial credit


class Game(ABC):
    """One game: a seeded generator with difficulty knobs, a prompt, a solver and a verifier.

    Puzzles are JSON-serialisable dicts holding everything `check` needs (they are stored as the RL
    ground truth). Answers are the text inside the response's last <answer>...</answer>.
    """

    name: ClassVar[str]
    knobs: ClassVar[dict[str, Any]] = {}  # difficulty knobs and their defaults
    max_answer_chars: ClassVar[int] = MAX_ANSWER_CHARS  # longer answers are refused before `check`

    @abstractmethod
    def generate(self, rng: random.Random, **knobs) -> dict:
        """A new puzzle (every knob has a default in `knobs`). Draws are bounded: knobs that (almost) no
        puzzle meets raise a ValueError naming them (`no_puzzle`), never loop forever."""

    def check_knobs(self, knobs: dict) -> dict:
        """Every knob (defaults filled in) if `knobs` can give puzzles, else a ValueError naming the knob:
        unknown names, a value not of its default's type (an int knob takes integers only), and the game's
        own `knob_problems`. Draws nothing: `games make` and the recipes' DRY_RUN call it up front."""
        unknown = sorted(set(knobs) - set(self.knobs))
        if unknown:
            raise ValueError(f"game {self.name!r} has no knob(s) {unknown}; knobs: {self.knobs}")
        full = {**self.knobs, **knobs}
        problems = [problem for key, default in self.knobs.items() if (problem := _type_problem(key, full[key], default))]
        problems = problems or self.knob_problems(full)
        if problems:
            raise ValueError(f"game {self.name!r}: " + "; ".join(problems))
        return full

    def knob_problems(self, knobs: dict) -> list[str]:
        """Knob values (all given, typed) that cannot give a non-trivial puzzle, each named with what is
        allowed. Games override this; it must not draw puzzles."""
        return []

    def no_puzzle(self, knobs: dict, draws: int) -> ValueError:
        return ValueError(f"game {self.name!r}: no puzzle met knobs {knobs} in {draws} draws; relax them")

    @abstractmethod
    def prompt(self, puzzle: dict) -> str:
        """The user message, asking for the answer in <answer></answer> tags in a stated format."""

    @abstractmethod
    def solve(self, puzzle: dict) -> str:
        """A reference answer (the text that belongs inside <answer></answer>)."""

    @abstractmethod
    def check(self, puzzle: dict, answer: str) -> Verdict:
        """Verify an extracted answer. Must not raise on any string, and must stay fast on long ones."""

    def canonical(self, puzzle: dict) -> str:
        """A key equal for puzzles that are the same problem in another guise (numbers reordered, names or
        letters renamed, a board mirrored). `games make` keeps train and test disjoint on it, so held-out
        accuracy is not memory. Default: the puzzle as sorted JSON (exact duplicates only)."""
        return json.dumps(puzzle, sort_keys=True)

    def compact_prompt(self, puzzle: dict) -> str:
        """The puzzle in as few tokens as possible, for small models (`games make --prompt-style compact`);
        the answer still goes in <answer></answer>. Default: the full prompt (games without a compact form)."""
        return self.prompt(puzzle)

    def styled_prompt(self, puzzle: dict, style: str = "full") -> str:
        if style not in PROMPT_STYLES:
            raise ValueError(f"unknown prompt style {style!r}; choose from {PROMPT_STYLES}")
        return self.compact_prompt(puzzle) if style == "compact" else self.prompt(puzzle)

    def extract_answer(self, response: str):
        """Text of the last <answer>...</answer> (linear time: two reverse searches)."""
        lowered = response[-MAX_RESPONSE_CHARS:].lower()
        end = lowered.rfind("</answer>")
        start = lowered.rfind("<answer>", 0, end) if end >= 0 else -1
        if start < 0:
            return None
        answer = response[-MAX_RESPONSE_CHARS:][start + len("<answer>") : end].strip()
        return answer if len(answer) <= self.max_answer_chars else None


def _type_problem(key: str, value: Any, default: Any) -> str | None:
    """A knob's value must have its default's type (ints for int knobs; an int is fine for a float knob;
    a knob whose default is None, a list or a dict takes any JSON value: the game checks it)."""
    if isinstance(default, bool):
        ok, kind = isinstance(value, bool), "true or false"
    elif isinstance(default, int):
        ok, kind = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        kind = "a number"
    elif isinstance(default, str):
        ok, kind = isinstance(value, str), "a string"
    else:
        ok, kind = True, ""
    return None if ok else f"knob {key}={value!r} must be {kind}"


def in_range(knobs: dict, key: str, low=None, high=None) -> list[str]:
    """[] if low <= knobs[key] <= high (either bound may be None), else the problem, naming the knob."""
    value = knobs[key]
    if (low is None or value >= low) and (high is None or value <= high):
        return []
    bounds = f"in [{low}, {high}]" if low is not None and high is not None else (f">= {low}" if low is not None else f"<= {high}")
    return [f"knob {key}={value!r} must be {bounds}"]


_REGISTRY: dict[str, Game] = {}


def register_game(cls: type[Game]) -> type[Game]:
    """Class decorator: make `cls` available as data_source "game/<cls.name>"."""
    if not getattr(cls, "name", None) or not re.fullmatch(r"[a-z0-9_]+(/[a-z0-9_]+)?", cls.name):
        raise ValueError(
            f"{cls.__name__}.name must be a lowercase identifier, optionally namespaced (rg/puzzle24), got {getattr(cls, 'name', None)!r}"
        )
    if cls.name in _REGISTRY and type(_REGISTRY[cls.name]) is not cls:
        raise ValueError(f"game {cls.name!r} is already registered by {type(_REGISTRY[cls.name]).__name__}")
    _REGISTRY[cls.name] = cls()
    return cls


def answer_instruction(format_hint: str) -> str:
    return f"Think it through, then give only the final answer inside <answer></answer> tags, {format_hint}"
