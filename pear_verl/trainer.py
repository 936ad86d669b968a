"""`PearSFTTrainer`: verl's own `SFTTrainer`, with the PEAR loss and exact PEAR metrics.

Why a subclass and not a fork: everything (data loading, FSDP engines, micro-batching, checkpoints,
HF export, resume, tracking) stays verl's. Two hooks change:
- `_build_engine` hands verl's `TrainingWorker` our loss (`pear_verl.losses.pear_loss`) instead of
  the hard-wired `sft_loss` (verl 0.9.1 has no SFT-loss registry);
- `PearTrainingWorker._postprocess_output` reduces the loss's per-micro-batch statistics over
  micro-batches and data-parallel ranks into global-batch metrics (`pear/...`), which verl's
  `SFTTrainer.fit` then logs to every configured tracker (console, wandb, tensorboard, ...).
  In validation it reports the *unweighted* base loss as `val/loss`, so PEAR and plain-SFT runs
  are compared on the same held-out objective (`train/loss` stays the weighted training objective).

Run: `python -m pear_verl.sft` (see `pear_verl/sft.py`).
"""

from __future__ import annotations

import logging

from omegaconf import open_dict
from verl.trainer.sft_trainer import SFTTrainer
from verl.utils import tensordict_utils as tu
from verl.workers.engine_workers import TrainingWorker, TrainingWorkerConfig

from pear_verl.losses import PearLossConfig, make_loss_fn, reduce_pear_stats

logger = logging.getLogger(__name__)


class PearTrainingWorker(TrainingWorker):
    """verl's TrainingWorker whose step metrics carry exact global-batch PEAR statistics."""

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
        self.training_client = PearTrainingWorker(config=config)
        self.training_client.set_loss_fn(loss_fn=self.loss_fn)
        self.engine = self.training_client.engine
        logger.warning("PEAR loss: %s", self.pear_config)
