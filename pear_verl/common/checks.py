"""Strict checks of user-given values: booleans, choices, numbers in a range, ordered pairs.

Why: a value that is silently coerced trains something other than what was asked for (`bool("no")` is
True: `pear.enable=no` trained PEAR). Each check here raises a one-line ValueError naming the key, the
value and what is allowed, so the hydra `pear:` block (`pear_verl.training.losses`), the recipes' variables
(`pear_verl.recipe.settings`) and the CLI refuse bad input the same way, before any work starts.

Values are checked as typed (hydra and argparse have parsed them); `from_text` reads a recipe variable's
text into the type a check expects (true/false only for booleans; a list like `[-0.08,0.3]`).

Use: `gamma = number("pear.gamma", cfg.gamma, low=0, high=1, low_open=True)`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, Callable, Optional


def boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"{key}={value!r}: must be true or false")


def choice(key: str, value: Any, allowed: Sequence[str]) -> str:
    if isinstance(value, str) and value in allowed:
        return value
    raise ValueError(f"{key}={value!r}: must be one of {', '.join(allowed)}")


def _range_text(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low}, {high}{']' if not high_open else ')'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high}"
    return ""


def number(key: str, value: Any, *, integer: bool = False, low=None, high=None, low_open: bool = False,
           high_open: bool = False):
    """`value` if it is a finite number (an int when `integer`) within the bounds, else a ValueError."""
    kind = "an integer" if integer else "a number"
    typed = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not typed or not math.isfinite(value):
        raise ValueError(f"{key}={value!r}: must be {kind}{_range_text(low, high, low_open, high_open)}")
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        raise ValueError(f"{key}={value!r}: must be{_range_text(low, high, low_open, high_open)}")
    return value


def ordered_pair(key: str, value: Any) -> Optional[tuple[float, float]]:
    """None, or two numbers [lo, hi] with lo <= hi, as floats."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{key}={value!r}: must be [lo, hi] (two numbers, lo <= hi) or null")
    lo, hi = (float(number(key, v)) for v in value)
    if lo > hi:
        raise ValueError(f"{key}={list(value)!r}: must be [lo, hi] with lo <= hi")
    return lo, hi


def collect(*checks: Callable[[], Any]) -> list[str]:
    """Run every check; the messages of those that failed (ValueError, or KeyError without its quotes)."""
    problems = []
    for check in checks:
        try:
            check()
        except (ValueError, KeyError) as err:
            problems.append(str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err))
    return problems


def from_text(key: str, text: str, kind: str) -> Any:
    """A recipe variable's text as the type a check expects: kind is bool, int, float, str or pair."""
    if kind == "bool":
        return {"true": True, "false": False}.get(text, text)
    if kind in ("int", "float"):
        try:
            return int(text) if kind == "int" else float(text)
        except ValueError:
            return text  # the check names it
    if kind == "pair":
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            raise ValueError(f"{key}={text!r}: must be [lo, hi] (two numbers, lo <= hi) or null") from None
    return text


def key_values(pairs: list[str], flag: str) -> dict:
    """["n_numbers=4", "use_all=false"] -> {"n_numbers": 4, "use_all": False} (values read as JSON, else kept as
    text); `flag` names the repeated option in the error."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} needs key=value, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out
