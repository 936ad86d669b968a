"""SFT dataset with behaviour log-probs: verl's `MultiTurnSFTDataset` plus one aligned per-token tensor.

Why: PEAR needs log π_β(y_t) for every trainable token, aligned exactly with the tokens verl trains
on. This class tokenises with verl's own `MultiTurnSFTDataset` (it *is* one), so tokenisation can
never drift from verl's, and attaches `behavior_log_probs` shaped like `loss_mask`; verl's collator and
micro-batching carry it to the loss, which rolls it by −1 exactly as it rolls `loss_mask`.

Parquet schema (one row per conversation):
- `messages`: chat messages, as for verl's SFT (`data.messages_key`).
- `behavior_log_probs` (`data.behavior_log_probs_key`): list<float>, log π_β of each *trainable*
  token in order — exactly `loss_mask.sum()` values, all finite and <= 0.
- `behavior_fingerprint` (`data.behavior_fingerprint_key`): string, `tokenization_fingerprint` of the
  tokenisation the log-probs belong to. A different tokenizer, chat template, `max_length` or
  truncation changes it, and the row is rejected instead of silently misaligned.

Every row is checked when the dataset is built, i.e. before training starts; errors name the file,
the row in that file and the field. Under torch.distributed the tokenisation checks are split across
ranks (each tokenises 1/N of the rows) and the errors are gathered, so every rank stops with the same
message. `pear-verl score` writes such files.

Use: `data.custom_cls.path=pkg://pear_verl.data data.custom_cls.name=PearSFTDataset` (the default in
`pear_verl/config/pear_sft.yaml`). Set `data.behavior_log_probs_key=null` for plain SFT data.
"""

from __future__ import annotations

import hashlib
from typing import Optional

import numpy as np
import pyarrow.parquet as pq
import torch
from tqdm import tqdm
from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

BEHAVIOR_KEY = "behavior_log_probs"  # parquet column (default) and the tensor key the loss reads
FINGERPRINT_KEY = "behavior_fingerprint"
# Log-probs from fp32/bf16 log_softmax can round to tiny positive values; beyond this they are wrong.
POSITIVE_TOLERANCE = 1e-4
MAX_REPORTED_ERRORS = 20


def _rank_and_world() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


class BehaviorDataError(ValueError):
    """Bad PEAR training data; the message names file, row and field."""


def tokenization_fingerprint(input_ids: torch.Tensor, loss_mask: torch.Tensor) -> str:
    """16 hex chars identifying a sample's token ids and trainable positions."""
    digest = hashlib.sha256()
    digest.update(input_ids.to(torch.int64).numpy().tobytes())
    digest.update(loss_mask.to(torch.int8).numpy().tobytes())
    return digest.hexdigest()[:16]


class PearSFTDataset(MultiTurnSFTDataset):
    """verl's multi-turn SFT dataset, validated up front, with per-token behaviour log-probs."""

    def __init__(self, parquet_files, tokenizer, config, processor=None, max_samples: int = -1):
        config = config or {}
        self.behavior_key: Optional[str] = config.get("behavior_log_probs_key", BEHAVIOR_KEY)
        self.fingerprint_key: str = config.get("behavior_fingerprint_key", FINGERPRINT_KEY)
        super().__init__(parquet_files, tokenizer, config, processor=processor, max_samples=max_samples)
        if self.pad_mode != "no_padding":
            raise BehaviorDataError(f"PearSFTDataset needs data.pad_mode=no_padding, got {self.pad_mode!r}")
        self._behavior: Optional[list[np.ndarray]] = self._load_behavior() if self.behavior_key else None

    # -- tokenisation -------------------------------------------------------------------------------
    def tokenize(self, item: int) -> dict:
        """verl's own tokenisation of row `item` (input_ids, position_ids, loss_mask), errors located."""
        try:
            return MultiTurnSFTDataset.__getitem__(self, item)
        except Exception as err:  # verl's errors do not say which row
            raise BehaviorDataError(f"{self.where(item)}: field '{self.messages_key}': {err}") from err

    def __getitem__(self, item: int) -> dict:
        sample = self.tokenize(item)
        if self._behavior is not None:
            full = torch.zeros(sample["input_ids"].shape[0], dtype=torch.float32)
            full[sample["loss_mask"].bool()] = torch.from_numpy(self._behavior[item])
            sample[BEHAVIOR_KEY] = full
        return sample

    # -- provenance ---------------------------------------------------------------------------------
    def _read_files_and_process(self):
        super()._read_files_and_process()
        self._sources = self._row_sources()

    def _row_sources(self) -> list[tuple[str, object]]:
        """(file, row-in-file) of every dataframe row, reproducing verl's concat + max_samples choice."""
        counts = [pq.ParquetFile(f).metadata.num_rows for f in self.parquet_files]
        files = np.repeat(np.arange(len(counts)), counts)
        local = np.concatenate([np.arange(c) for c in counts]) if counts else np.zeros(0, dtype=int)
        positions = np.arange(len(files))
        if 0 < self.max_samples < len(files):  # same draw as MultiTurnSFTDataset._read_files_and_process
            if self.shuffle:
                rng = np.random.default_rng(*((self.seed,) if self.seed is not None else ()))
                positions = rng.choice(len(files), size=self.max_samples, replace=False)
            else:
                positions = np.arange(self.max_samples)
        sources = [(self.parquet_files[files[p]], int(local[p])) for p in positions]
        if [r for _, r in sources] != list(self.dataframe.index):  # unexpected layout: say less, stay right
            names = ", ".join(map(str, self.parquet_files))
            sources = [(f"one of [{names}]", idx) for idx in self.dataframe.index]
        return sources

    def where(self, item: int) -> str:
        file, row = self._sources[item]
        return f"{file}: row {row}"

    # -- validation ---------------------------------------------------------------------------------
    def _load_behavior(self) -> list[np.ndarray]:
        for key in (self.behavior_key, self.fingerprint_key):
            if key not in self.dataframe.columns:
                raise BehaviorDataError(
                    f"{', '.join(map(str, self.parquet_files))}: missing column '{key}' "
                    f"(columns: {list(self.dataframe.columns)}); produce it with `pear-verl score`, "
                    "or set data.behavior_log_probs_key=null for plain SFT"
                )
        column = self.dataframe[self.behavior_key].tolist()
        fingerprints = self.dataframe[self.fingerprint_key].tolist()
        # Every rank needs every row's values, but the tokenisation checks (count, fingerprint) are split
        # across data-parallel ranks: rank r tokenises rows r, r + N, ...; errors are then shared.
        rank, world = _rank_and_world()
        behavior, errors = [], []
        for item in tqdm(range(len(self)), desc="checking behaviour log-probs", disable=rank != 0):
            try:
                behavior.append(self._check_row(item, column[item], fingerprints[item], tokenize=item % world == rank))
            except BehaviorDataError as err:
                errors.append((item, str(err)))
                if len(errors) >= MAX_REPORTED_ERRORS:
                    break
        if world > 1:
            gathered: list = [None] * world
            torch.distributed.all_gather_object(gathered, errors)
            errors = sorted(e for rank_errors in gathered for e in rank_errors)[:MAX_REPORTED_ERRORS]
        if errors:
            more = " (stopped at the first ones)" if len(errors) >= MAX_REPORTED_ERRORS else ""
            raise BehaviorDataError(f"{len(errors)} bad PEAR rows{more}:\n" + "\n".join(msg for _, msg in errors))
        return behavior

    def _check_row(self, item: int, raw, stored_fingerprint, tokenize: bool = True) -> np.ndarray:
        where, key = self.where(item), self.behavior_key
        try:
            values = np.asarray(raw, dtype=np.float64).reshape(-1) if raw is not None else None
        except (TypeError, ValueError):
            values = None
        if values is None:
            raise BehaviorDataError(f"{where}: field '{key}': expected a list of floats, got {type(raw).__name__}")
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise BehaviorDataError(f"{where}: field '{key}': value {values[bad[0]]} at index {bad[0]} is not finite")
        bad = np.flatnonzero(values > POSITIVE_TOLERANCE)
        if bad.size:
            raise BehaviorDataError(
                f"{where}: field '{key}': log-prob {values[bad[0]]:.6g} at index {bad[0]} is positive"
            )
        if not tokenize:  # another rank checks this row's tokenisation
            return np.minimum(values, 0.0).astype(np.float32)
        sample = self.tokenize(item)
        n_train = int(sample["loss_mask"].sum())
        if values.size != n_train:
            raise BehaviorDataError(
                f"{where}: field '{key}': {values.size} log-probs for {n_train} trainable tokens "
                "(scored with another tokenizer, chat template or max_length?)"
            )
        fingerprint = tokenization_fingerprint(sample["input_ids"], sample["loss_mask"])
        if stored_fingerprint != fingerprint:
            raise BehaviorDataError(
                f"{where}: field '{self.fingerprint_key}': {stored_fingerprint!r} does not match this "
                f"tokenisation ({fingerprint!r}); re-score the data with the training tokenizer and data config"
            )
        return np.minimum(values, 0.0).astype(np.float32)
