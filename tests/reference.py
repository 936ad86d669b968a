"""Plain loop-based references that tests compare the vectorised code against (docs/method.md, transcribed)."""

import math

DATA_CONFIG = {"pad_mode": "no_padding", "truncation": "error", "max_length": 1024}


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
        for t in range(1, T + 1):  # 1-based, as in docs/method.md
            if variant == "sequence":
                lw = sum(d)
            else:
                B = 1 if variant == "token" else block_size
                e = min(((t - 1) // B + 1) * B, T)  # last index of t's block
                lw = (T - e) * math.log(gamma) + sum(d[j - 1] for j in range(e + 1, T + 1))
            out[b][pos[t - 1]] = clip(lw, log_weight_clip)
    return out


def forward_log_probs(model_path, parquet, temperature=1.0, rows=None, max_length=1024) -> list[list[float]]:
    """log π(y_t) of every trainable token of every row (or of `rows`): one unbatched forward per row,
    normalised with a plain loop over the vocabulary (independent of pear_verl.behaviour.sampling)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pear_verl.training.data import PearSFTDataset

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).eval()
    dataset = PearSFTDataset(str(parquet), tokenizer, {**DATA_CONFIG, "max_length": max_length, "behavior_log_probs_key": None})
    out = []
    for i in range(len(dataset)) if rows is None else rows:
        sample = dataset.tokenize(i)
        ids, mask = sample["input_ids"].tolist(), sample["loss_mask"].tolist()
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0].double() / temperature
        values = []
        for t in range(1, len(ids)):
            if mask[t]:
                scores = logits[t - 1].tolist()
                values.append(scores[ids[t]] - math.log(sum(math.exp(x) for x in scores)))
        out.append(values)
    return out
