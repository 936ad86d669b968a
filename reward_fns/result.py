"""The one result shape every checker returns, so verl can batch the extra keys of mixed data sources.

verl's reward managers log every key of the returned dict per sample (`reward_extra_info`) and stack
them across the batch; a batch mixing math and games therefore needs identical keys and types.
"""

from __future__ import annotations

MAX_PRED_CHARS = 200  # the logged prediction is a preview, not the whole answer


def reward_result(score: float = 0.0, acc: float = 0.0, format_ok: bool = False, pred: str = "", error: str = "") -> dict:
    """{"score", "acc", "format_ok", "pred", "error"}: floats, a bool-as-float and two short strings."""
    return {
        "score": float(score),
        "acc": float(acc),
        "format_ok": float(bool(format_ok)),
        "pred": (pred or "")[:MAX_PRED_CHARS],
        "error": (error or "")[:MAX_PRED_CHARS],
    }
