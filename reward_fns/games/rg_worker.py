"""Sandbox side of the reasoning-gym adapter: score one answer, and never execute its text.

Why: reasoning-gym scorers run `eval(answer)` and sympy's `parse_expr(answer)` (itself an eval) on model
text. This module runs only inside a `reward_fns.sandbox` worker (bounded time and memory), and there:
1. every text-evaluating call site found in reasoning-gym (rg_fixes.EVAL_SITES) is replaced by a parser
   that cannot execute anything (ast.literal_eval, a whitelisted int-arithmetic or sympy AST walk);
2. an audit hook (defence in depth) refuses, while a scorer runs, any compile of source text other than
   ast.parse, any exec of a code object other than a module import, and any process, socket or file-write
   operation: text that reaches an unaudited eval fails there instead of running;
3. hole fixes from rg_fixes are applied to the score.
Returns (full_credit, partial) with partial in [0, 1].

Run: only through `reward_fns.games.rg.pool()`; `score(None, None, None, None)` just warms up.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from reward_fns.games.rg_fixes import FULL_CREDIT_GUARDS, PARTIAL_GUARDS, REPLACED
from reward_fns.games.safe_parse import int_eval, literal_eval, safe_parse_expr

_SCORING = [False]
_BLOCKED = ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "subprocess.Popen",
            "socket.connect", "socket.bind", "ctypes.dlopen", "os.remove", "os.rename", "shutil.rmtree", "os.kill")


def _module_file(name) -> bool:
    """An imported module's source file: an absolute path that exists (a relative name such as "<string>" could
    be a file in the current directory)."""
    return isinstance(name, str) and os.path.isabs(name) and os.path.isfile(name)


def _audit(event: str, args: tuple) -> None:
    if not _SCORING[0]:
        return
    if event == "compile" and args[1] != "<unknown>" and not _module_file(args[1]):
        # allowed: ast.parse / literal_eval (AST only, named "<unknown>") and imports compiling their files
        raise RuntimeError(f"rg sandbox: compiling source text is not allowed while scoring ({str(args[1])[:40]})")
    if event == "exec":
        code = args[0]
        if not (getattr(code, "co_name", "") == "<module>" and _module_file(getattr(code, "co_filename", ""))):
            raise RuntimeError("rg sandbox: executing code is not allowed while scoring")
    if event.startswith(_BLOCKED):
        raise RuntimeError(f"rg sandbox: {event} is not allowed while scoring")
    if event == "open" and len(args) > 1 and isinstance(args[1], str) and any(c in args[1] for c in "wax+"):
        raise RuntimeError("rg sandbox: writing files is not allowed while scoring")


# ---- set-up, once per zygote ------------------------------------------------------------------------------

_READY = [False]
_MODULE_EVAL = {
    "reasoning_gym.arithmetic.bitwise_arithmetic": int_eval,
    "reasoning_gym.algorithmic.string_insertion": literal_eval,
    "reasoning_gym.algorithmic.spiral_matrix": literal_eval,
    "reasoning_gym.algorithmic.number_sorting": literal_eval,
    "reasoning_gym.algorithmic.binary_matrix": literal_eval,
    "reasoning_gym.games.n_queens": literal_eval,
}


def _prepare() -> None:
    if _READY[0]:
        return
    import fractions  # noqa: F401
    import importlib

    import reasoning_gym  # noqa: F401  (imports every task module)
    import reasoning_gym.dataset  # noqa: F401
    import sympy
    import sympy.parsing.sympy_parser

    import reward_fns.games.countdown  # noqa: F401  (the replaced scorers; imported here because the
    import reward_fns.games.rg  # noqa: F401  audit hook refuses the dataclass/namedtuple code an import may build)

    for module_name, replacement in _MODULE_EVAL.items():
        importlib.import_module(module_name).eval = replacement  # module globals shadow the builtin
    sympy.parse_expr = sympy.parsing.sympy_parser.parse_expr = safe_parse_expr
    for module_name in ("reasoning_gym.games.puzzle24", "reasoning_gym.games.countdown"):
        importlib.import_module(module_name).parse_expr = safe_parse_expr  # replaced anyway (rg_fixes)
    sys.addaudithook(_audit)
    _READY[0] = True


def _scorer(task: str, config: dict):
    from reward_fns.games.rg import _dataset

    return _dataset(task, json.dumps(config, sort_keys=True), for_scoring=True)


def score(task: Any, config: Any, entry: Any, answer: Any) -> tuple[bool, float]:
    """(full credit, partial credit) for `answer` to reasoning-gym `entry` of `task` with `config`."""
    _prepare()
    if task is None:
        return False, 0.0
    if not isinstance(answer, str) or not isinstance(entry, dict):
        return False, 0.0
    from reasoning_gym.dataset import ProceduralDataset

    from reward_fns.games.rg import decode

    entry = decode(entry)

    dataset = _scorer(task, config)
    _SCORING[0] = True
    try:
        if task in REPLACED:
            verdict = REPLACED[task](answer, entry, config)
            return bool(verdict.correct), float(verdict.partial)
        raw = float(dataset.score_answer(answer, entry))
        full = raw >= 1.0
        guard = FULL_CREDIT_GUARDS.get(task)
        if guard is not None and not guard(answer, entry):
            return False, 0.0
        partial = min(max(raw, 0.0), 1.0) if raw == raw else 0.0  # NaN -> 0
        if type(dataset).score_answer is ProceduralDataset.score_answer:
            partial = 0.0  # default scorer: partial = len(gold)/len(answer) for any answer containing gold
        partial_guard = PARTIAL_GUARDS.get(task)
        if not full and partial_guard is not None and not partial_guard(answer, entry):
            partial = 0.0
        return full, (1.0 if full else partial)
    finally:
        _SCORING[0] = False

