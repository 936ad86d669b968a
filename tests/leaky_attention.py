"""A deliberately wrong attention for tests: causal over the whole packed row, so tokens attend across the
sequences packed into it. Registered as `leaky_sdpa`; loaded into verl processes with
VERL_USE_EXTERNAL_MODULES=tests.leaky_attention. A check of packed sequences must fail with it."""

import torch
from transformers import AttentionInterface


def leaky_sdpa(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    groups = query.shape[1] // key.shape[1]
    key, value = key.repeat_interleave(groups, dim=1), value.repeat_interleave(groups, dim=1)
    out = torch.nn.functional.scaled_dot_product_attention(query, key, value, is_causal=True, scale=scaling)
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register("leaky_sdpa", leaky_sdpa)
