"""`PearSFTTrainer`: verl's own `SFTTrainer`, with the PEAR loss and exact PEAR metrics.

Why a subclass and not a fork: everything (data loading, FSDP engines, micro-batching, checkpoints,
HF export, resume, tracking) stays verl's. Two hooks change:
- `_build_engine` hands verl's `TrainingWorker` our loss (`pear_verl.training.losses.pear_loss`) instead of
  the hard-wired `sft_loss` (verl 0.9.1 has no SFT-loss registry);
- with `pear.self_normalize=true`, `PearTrainingWorker` rescales the step's accumulated gradients by
  N / ΣG over the global batch (all-reduced over data-parallel ranks) before verl clips and steps: the
  same gradient whatever the micro-batch size, dynamic-batch budget or number of ranks. Cost: one scalar
  all-reduce and one in-place multiply per gradient tensor per step;
- `PearTrainingWorker._postprocess_output` reduces the loss's per-micro-batch statistics over
  micro-batches and data-parallel ranks into global-batch metrics (`pear/...`), which verl's
  `SFTTrainer.fit` then logs to every configured tracker (console, wandb, tensorboard, ...).
  In validation it reports the *unweighted* base loss as `val/loss`, so PEAR and plain-SFT runs
  are compared on the same held-out objective (`train/loss` stays the weighted training objective).

Run: `python -m pear_verl.sft` (see `pear_verl/sft.py`).
"""

from __future__ import annotations

import logging

import torch
from omegaconf import open_dict
from verl.trainer.sft_trainer import SFTTrainer
from verl.utils import tensordict_utils as tu
from verl.workers.engine_workers import TrainingWorker, TrainingWorkerConfig

from pear_verl.training.losses import STATS_PREFIX, PearLossConfig, flatten_stats, make_loss_fn, reduce_pear_stats

logger = logging.getLogger(__name__)


class PearTrainingWorker(TrainingWorker):
    """verl's TrainingWorker whose step metrics carry exact global-batch PEAR statistics."""

    def __init__(self, config: TrainingWorkerConfig, pear_config: PearLossConfig):
        super().__init__(config=config)
        if pear_config.enable and pear_config.self_normalize:
            # The engine's train_batch runs forward_backward_batch then optimizer_step (clip, step); the
            # global normaliser must reach the gradients in between, so the first is wrapped.
            self.engine.forward_backward_batch = self._self_normalized(self.engine.forward_backward_batch)

    def _self_normalized(self, forward_backward):
        def run(data, loss_function, forward_only=False):
            output = forward_backward(data, loss_function, forward_only=forward_only)
            if forward_only:
                return output
            metrics = output["metrics"]
            totals = torch.tensor(
                [sum(flatten_stats(metrics.get(STATS_PREFIX + k, []))) for k in ("sum_w", "n")], dtype=torch.float64, device=self.device_name
            )
            group = self.engine.get_data_parallel_group()
            if group is not None and torch.distributed.get_world_size(group) > 1:
                torch.distributed.all_reduce(totals, group=group)
            sum_w, n = totals.tolist()
            scale = n / sum_w if sum_w > 0 else 1.0  # 1 / mean(G) over the global batch's trainable tokens
            for param in self.engine.module.parameters():
                if param.grad is not None:
                    param.grad.mul_(scale)
            output["loss"] = [loss * scale for loss in output["loss"]]
            return output

        return run

    def _postprocess_output(self, output, **kwargs):
        pear_metrics = reduce_pear_stats(
            output["metrics"], dp_group=self.engine.get_data_parallel_group(), device=self.device_name
        )
        result = super()._postprocess_output(output, **kwargs)
        metrics = {**tu.get(result, "metrics"), **pear_metrics}
        if kwargs.get("forward_only") and "pear/base_loss" in pear_metrics:
            # Validation: report the unweighted base loss, comparable across PEAR and plain-SFT runs.
            metrics["loss"] = pear_metrics["pear/base_loss"]
        tu.assign_non_tensor(result, metrics=metrics)
        return result


class PearSFTTrainer(SFTTrainer):
    """verl's SFTTrainer trained with `pear_loss`; configured by the `pear:` block of the config."""

    def __init__(self, config):
        self.pear_config = PearLossConfig.from_config(config.get("pear", {}))
        if not self.pear_config.enable:
            # Plain SFT (the baseline) must not require behaviour log-probs in the data.
            with open_dict(config):
                config.data.behavior_log_probs_key = None
        super().__init__(config)

    def _build_engine(self):
        # Same as SFTTrainer._build_engine, with our worker and loss.
        config = TrainingWorkerConfig(
            model_type="language_model",
            model_config=self.model_config,
            engine_config=self.engine_config,
            optimizer_config=self.optimizer_config,
            checkpoint_config=self.checkpoint_config,
            profiler_config=self.profiler_config,
        )
        self.loss_fn = make_loss_fn(self.pear_config)
        self.training_client = PearTrainingWorker(config=config, pear_config=self.pear_config)
        self.training_client.set_loss_fn(loss_fn=self.loss_fn)
        self.engine = self.training_client.engine
        logger.warning("PEAR loss: %s", self.pear_config)
