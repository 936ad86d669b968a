"""verl SFT loss functions: a base objective (nll or dft), optionally PEAR-weighted.

Why: verl's `SFTTrainer` hard-wires `sft_loss`; `pear_verl.training.trainer` swaps in `make_loss_fn(cfg)`,
which has verl's loss signature `(config, model_output, data, dp_group=None) -> (loss, metrics)` and
works on verl's jagged no-padding micro-batches:

    L = Σ_tokens sg(G_t) · ℓ_t / batch_num_tokens · dp_size

with verl's own normaliser, so G ≡ 1 reproduces `verl.workers.utils.losses.sft_loss` exactly.

Alignment: in no-padding mode `log_probs[i]` scores token i+1, so verl rolls `loss_mask` by −1 over
the flattened batch; `behavior_log_probs` (stored per token, like `loss_mask`) is rolled the same way.

Self-normalisation (`self_normalize=True`, off by default, not in the paper) divides G by its mean over
the trainable tokens of the whole *global batch*, so the loss and gradient do not depend on how the batch
is cut into micro-batches or ranks. The loss here uses the raw G; since sg(G) is a constant per step, the
normaliser is one scalar, applied by `pear_verl.training.trainer` to the accumulated gradients (and the reported
loss) after the last backward and before clipping — exact, with no extra forward pass.

Metrics: each call returns per-micro-batch sufficient statistics under `pear_stats/...`;
`reduce_pear_stats` sums them over micro-batches and data-parallel ranks into exact global-batch
numbers (`pear/weight_mean`, `pear/ess`, ...). `pear_verl.training.trainer` does that before logging.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

if TYPE_CHECKING:  # annotations only: the math imports without tensordict (scripts/gpu_check.py)
    from tensordict import TensorDict

from pear_verl.common import checks
from pear_verl.training.weights import VARIANTS, WeightConfig, compact_log_weights

OBJECTIVES = ("nll", "dft")
BEHAVIOR_KEY = "behavior_log_probs"
STATS_PREFIX = "pear_stats/"
_STAT_NAMES = ("n", "sum_base", "sum_w", "sum_w2", "max_w", "n_ratio_clipped", "n_weight_clipped", "sum_delta")


@dataclass(frozen=True)
class PearLossConfig:
    """The `pear:` config block. `enable=False` gives the plain base objective (the SFT baseline)."""

    enable: bool = True
    objective: str = "nll"
    weights: WeightConfig = field(default_factory=WeightConfig)
    self_normalize: bool = False

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"pear.objective must be one of {OBJECTIVES}, got {self.objective!r}")

    @classmethod
    def from_config(cls, cfg: Any) -> "PearLossConfig":
        """Build from the hydra `pear:` block (a DictConfig or dict). Strict: booleans are true/false only
        (`bool("no")` is True), numbers must be numbers in range, clips ordered; errors name the key."""
        return cls(
            enable=checks.boolean("pear.enable", cfg.get("enable", True)),
            objective=checks.choice("pear.objective", cfg.get("objective", "nll"), OBJECTIVES),
            weights=WeightConfig(
                variant=checks.choice("pear.variant", cfg.get("variant", "token"), VARIANTS),
                gamma=float(checks.number("pear.gamma", cfg.get("gamma", 1.0), low=0, high=1, low_open=True)),
                block_size=checks.number("pear.block_size", cfg.get("block_size", 1), integer=True, low=1),
                ratio_clip=checks.ordered_pair("pear.ratio_clip", cfg.get("ratio_clip", None)),
                log_weight_clip=checks.ordered_pair("pear.log_weight_clip", cfg.get("log_weight_clip", None)),
            ),
            self_normalize=checks.boolean("pear.self_normalize", cfg.get("self_normalize", False)),
        )


def base_token_loss(log_probs: Tensor, objective: str) -> Tensor:
    """Per-token base loss ℓ_t from log π_θ: nll = −log p; dft = −sg(p)·log p (arXiv 2508.05629)."""
    if objective == "nll":
        return -log_probs
    if objective == "dft":
        return -torch.exp(log_probs.detach()) * log_probs
    raise ValueError(f"unknown objective {objective!r}")


def _flat_aligned(data: TensorDict, key: str) -> Tensor:
    """A per-token jagged field, flattened and rolled by −1 to line up with `log_probs`."""
    return torch.roll(data[key].values(), shifts=-1, dims=0)


def pear_loss(config: PearLossConfig, model_output, data: TensorDict, dp_group=None):
    """verl loss function (bind `config` with functools.partial, as verl does for `sft_loss`)."""
    from verl.utils import tensordict_utils as tu
    from verl.utils.dataset.dataset_utils import DatasetPadMode

    pad_mode = tu.get_non_tensor_data(data=data, key="pad_mode", default=DatasetPadMode.NO_PADDING)
    if pad_mode != DatasetPadMode.NO_PADDING:
        raise ValueError(f"pear_verl losses need data.pad_mode=no_padding (verl's SFT default), got {pad_mode}")

    log_probs = model_output["log_probs"]  # jagged [bsz, j]
    flat_lp = log_probs.values()
    mask = _flat_aligned(data, "loss_mask").to(torch.bool)
    index = mask.nonzero().squeeze(1)  # [N] flat positions of trainable tokens, sample after sample
    token_lp = flat_lp.index_select(0, index)
    token_loss = base_token_loss(token_lp, config.objective)

    stats = {"n": torch.tensor(index.numel()), "sum_base": token_loss.detach().sum()}
    if config.enable:
        behavior = _flat_aligned(data, BEHAVIOR_KEY).index_select(0, index)
        # Trainable tokens per sample, from the running count of trainable tokens at sample ends.
        running = torch.cat([mask.new_zeros(1, dtype=torch.long), mask.cumsum(0)])
        counts = running[log_probs.offsets()].diff()
        delta = token_lp.detach().double() - behavior.double()
        result = compact_log_weights(delta, counts, config.weights)
        weights = torch.exp(result.log_weights)
        token_loss = weights.to(token_loss.dtype) * token_loss
        stats.update(
            sum_w=weights.sum(),
            sum_w2=weights.square().sum(),
            max_w=weights.max() if weights.numel() else weights.new_zeros(()),
            n_ratio_clipped=result.ratio_clipped.sum(),
            n_weight_clipped=result.weight_clipped.sum(),
            sum_delta=result.delta.sum(),
        )

    loss = token_loss.sum() / data["batch_num_tokens"] * data["dp_size"]
    # One host sync for all statistics.
    names = list(stats)
    values = torch.stack([torch.as_tensor(stats[k], dtype=torch.float64, device=flat_lp.device) for k in names])
    metrics = {STATS_PREFIX + k: v for k, v in zip(names, values.tolist())}
    return loss, metrics


def make_loss_fn(config: PearLossConfig):
    """The callable to hand to verl's `TrainingWorker.set_loss_fn`."""

    return partial(pear_loss, config=config)


def reduce_pear_stats(metrics: dict, dp_group=None, device: str = "cpu") -> dict[str, float]:
    """Turn `pear_stats/*` lists (per micro-batch, possibly nested per rank) into global-batch metrics.

    Pops the `pear_stats/*` keys from `metrics` in place. Sums (and the max) are all-reduced over
    `dp_group` when given, so every rank returns the same numbers. Must be called on every rank of
    `dp_group` (it is a collective), with the same keys.
    """
    raw = {k[len(STATS_PREFIX) :]: metrics.pop(k) for k in list(metrics) if k.startswith(STATS_PREFIX)}
    if not raw:
        return {}
    names = [k for k in _STAT_NAMES if k in raw]
    local = {k: flatten_stats(raw[k]) for k in names}
    sums = torch.tensor([sum(local[k]) for k in names if k != "max_w"], dtype=torch.float64, device=device)
    maxima = torch.tensor([max(local.get("max_w", [0.0]) or [0.0])], dtype=torch.float64, device=device)
    if dp_group is not None and torch.distributed.get_world_size(dp_group) > 1:
        torch.distributed.all_reduce(sums, op=torch.distributed.ReduceOp.SUM, group=dp_group)
        torch.distributed.all_reduce(maxima, op=torch.distributed.ReduceOp.MAX, group=dp_group)
    total = dict(zip([k for k in names if k != "max_w"], sums.tolist()))
    n = total["n"]
    if n <= 0:
        return {}
    out = {"pear/trainable_tokens": n, "pear/base_loss": total["sum_base"] / n}
    if "sum_w" in total:
        out.update(
            {
                "pear/weight_mean": total["sum_w"] / n,
                "pear/weight_max": maxima.item(),
                "pear/ess": total["sum_w"] ** 2 / (n * total["sum_w2"]) if total["sum_w2"] > 0 else 0.0,
                "pear/ratio_clip_frac": total["n_ratio_clipped"] / n,
                "pear/weight_clip_frac": total["n_weight_clipped"] / n,
                "pear/delta_mean": total["sum_delta"] / n,
            }
        )
    return out


def flatten_stats(value) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in flatten_stats(v)]
    return [float(value)]
