"""Plain loop-based references that tests compare the vectorised code against (PEAR.md, transcribed)."""

import math


def clip(x, bounds):
    return x if bounds is None else min(max(x, bounds[0]), bounds[1])


def reference_log_weights(lp, blp, mask, variant, gamma, block_size, ratio_clip, log_weight_clip):
    """Per-sample loops over python lists; returns nested lists of log G_t (0.0 where mask is False).

    Positions are counted among trainable tokens only.
    """
    out = [[0.0] * len(row) for row in mask]
    for b, row in enumerate(mask):
        pos = [i for i, m in enumerate(row) if m]
        T = len(pos)
        d = [clip(float(lp[b][i]) - float(blp[b][i]), ratio_clip) for i in pos]
        for t in range(1, T + 1):  # 1-based, as in PEAR.md
            if variant == "sequence":
                lw = sum(d)
            else:
                B = 1 if variant == "token" else block_size
                e = min(((t - 1) // B + 1) * B, T)  # last index of t's block
                lw = (T - e) * math.log(gamma) + sum(d[j - 1] for j in range(e + 1, T + 1))
            out[b][pos[t - 1]] = clip(lw, log_weight_clip)
    return out
