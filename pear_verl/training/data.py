"""SFT dataset with behaviour log-probs: verl's `MultiTurnSFTDataset`, tokenised as the model generated it.

Why: PEAR needs log π_β(y_t) for every trainable token, aligned exactly with the tokens verl trains on,
and those tokens must be the ones the behaviour model generated — `<think>` blocks included. The class is a
verl `MultiTurnSFTDataset` (file reading, config, sampling, collation, micro-batching stay verl's), whose
per-row tokenisation is `pear_verl.training.chat_tokens` (why verl's per-turn concatenation loses thinking traces
is explained there). It attaches `behavior_log_probs` shaped like `loss_mask`; verl's collator and
micro-batching carry it to the loss, which rolls it by −1 exactly as it rolls `loss_mask`.

Parquet schema (one row per conversation):
- `messages`: chat messages, as for verl's SFT (`data.messages_key`).
- `response_ids` (optional, `data.response_ids_key`): list<int>, the sampled token ids of the last assistant
  turn (`pear-verl generate` writes them); trained as they are instead of re-tokenising the text.
- `behavior_log_probs` (`data.behavior_log_probs_key`): list<float>, log π_β of each *trainable*
  token in order — exactly `loss_mask.sum()` values, all finite and <= 0.
- `behavior_fingerprint` (`data.behavior_fingerprint_key`): string, `tokenization_fingerprint` of the
  tokenisation the log-probs belong to. A different tokenizer, chat template, `max_length` or
  truncation changes it, and the row is rejected instead of silently misaligned.

Every row is tokenised and checked when the dataset is built, i.e. before training starts; errors name
the file, the row in that file and the field. Under torch.distributed the checks are split across ranks
(each tokenises 1/N of the rows) and the errors are gathered, so every rank stops with the same message.
Per-token columns are held as flat numpy arrays with offsets (4 bytes a log-prob), never as Python lists.
`pear-verl score` writes such files.

Use: `data.custom_cls.path=pkg://pear_verl.training.data data.custom_cls.name=PearSFTDataset` (the default in
`pear_verl/config/pear_sft.yaml`). Set `data.behavior_log_probs_key=null` for plain SFT data.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import torch
from tqdm import tqdm
from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

from pear_verl.training.chat_tokens import END_OF_TURN_TOKENS, ChatRenderer, ChatTokenError

logger = logging.getLogger(__name__)

BEHAVIOR_KEY = "behavior_log_probs"  # parquet column (default) and the tensor key the loss reads
FINGERPRINT_KEY = "behavior_fingerprint"
RESPONSE_IDS_KEY = "response_ids"
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


class Ragged:
    """A list<number> column as one flat array plus offsets: row i is `values[offsets[i]:offsets[i+1]]`.
    Null rows are recorded in `null` (and hold no values)."""

    def __init__(self, column, dtype, where: str):
        try:
            array = column if isinstance(column, (pa.Array, pa.ChunkedArray)) else pa.array(column.array)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # files of different list types concatenated to objects
            array = pa.array([None if v is None else np.asarray(v, dtype) for v in column])
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if not (pa.types.is_list(array.type) or pa.types.is_large_list(array.type)) or not (
            pa.types.is_integer(array.type.value_type) or pa.types.is_floating(array.type.value_type)
        ):
            raise BehaviorDataError(f"{where}: expected a list of numbers per row, the column holds {array.type}")
        lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
        self.offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        flat = pc.list_flatten(array)
        if flat.null_count:  # pandas writes NaN inside lists as null: keep it a NaN, reported per row as not finite
            if not np.issubdtype(dtype, np.floating):
                raise BehaviorDataError(f"{where}: null values inside lists")
            flat = pc.fill_null(flat.cast(pa.float64()), float("nan"))
        self.values = flat.to_numpy(zero_copy_only=False).astype(dtype, copy=False)
        self.null = array.is_null().to_numpy(zero_copy_only=False)

    def __getitem__(self, item: int) -> np.ndarray:
        return self.values[self.offsets[item] : self.offsets[item + 1]]

    def rows_of(self, flat_index: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offsets, flat_index, side="right") - 1


def parse_thinking(value) -> Optional[bool]:
    """`enable_thinking` of a row: None when unset (verl's yaml default is the *string* "none", which verl itself
    turns into True), else a bool."""
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")) or value is pd.NA:
        return None
    if isinstance(value, str):
        if value.lower() not in ("true", "false"):
            raise BehaviorDataError(f"enable_thinking must be true, false or none, got {value!r}")
        return value.lower() == "true"
    return bool(value)


def raise_row_errors(errors: list[tuple[int, str]]) -> None:
    """One error listing the first bad rows, in row order."""
    errors = sorted(errors)[:MAX_REPORTED_ERRORS]
    if errors:
        more = " (stopped at the first ones)" if len(errors) >= MAX_REPORTED_ERRORS else ""
        raise BehaviorDataError(f"{len(errors)} bad rows{more}:\n" + "\n".join(msg for _, msg in errors))


class PearSFTDataset(MultiTurnSFTDataset):
    """verl's multi-turn SFT dataset, validated up front, with per-token behaviour log-probs."""

    def __init__(self, parquet_files, tokenizer, config, processor=None, max_samples: int = -1, check_rows: bool = True):
        """`check_rows=False`: skip the up-front check of every row (callers that check their own share, like
        `pear-verl score` with `row_errors`)."""
        config = config or {}
        if processor is not None:
            raise BehaviorDataError("PearSFTDataset handles text conversations only (no image/video processor)")
        self.behavior_key: Optional[str] = config.get("behavior_log_probs_key", BEHAVIOR_KEY)
        self.fingerprint_key: str = config.get("behavior_fingerprint_key", FINGERPRINT_KEY)
        self.response_ids_key: Optional[str] = config.get("response_ids_key", RESPONSE_IDS_KEY)
        super().__init__(parquet_files, tokenizer, config, processor=processor, max_samples=max_samples)
        if self.pad_mode != "no_padding":
            raise BehaviorDataError(f"PearSFTDataset needs data.pad_mode=no_padding, got {self.pad_mode!r}")
        if self.truncation not in ("error", "right"):  # verl's no-padding mode cuts on the right whatever it says
            raise BehaviorDataError(f"data.truncation must be error or right, got {self.truncation!r}")
        self.renderer = ChatRenderer(
            self.tokenizer, self.apply_chat_template_kwargs, config.get("train_turns", "all"),
            list(config.get("end_of_turn_tokens") or END_OF_TURN_TOKENS),
        )
        self._response_ids = self._column(self.response_ids_key, np.int32) if self.response_ids_key in self.dataframe else None
        self._behavior = self._column(self.behavior_key, np.float32, required=True) if self.behavior_key else None
        self._fingerprints = self.dataframe[self.fingerprint_key].tolist() if self.behavior_key else None
        if check_rows:
            self._validate()
        if self._behavior is not None and (self._behavior.values > 0).any():  # rounding within POSITIVE_TOLERANCE
            self._behavior.values = np.minimum(self._behavior.values, 0.0)

    # -- tokenisation -------------------------------------------------------------------------------
    def tokenize(self, item: int) -> dict:
        """The row's generated-token sequence (input_ids, position_ids, loss_mask), errors located."""
        return self._tokenize(item)[0]

    def _tokenize(self, item: int) -> tuple[dict, int]:
        """`tokenize`'s sample and the row's length before truncation."""
        where = self.where(item)
        messages = self.messages[item]
        if not isinstance(messages, list) or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in messages
        ):
            raise BehaviorDataError(f"{where}: field '{self.messages_key}': expected a list of {{role, content}} messages with string values")
        response = None
        if self._response_ids is not None and not self._response_ids.null[item]:
            response = self._response_ids[item]
        thinking = parse_thinking(self.enable_thinking[item] if self.enable_thinking is not None else self.enable_thinking_default)
        try:
            tokens = self.renderer.tokens(messages, self.tools[item] if self.tools is not None else None, thinking, response)
        except ChatTokenError as err:
            raise BehaviorDataError(f"{where}: field '{self.messages_key}': {err}") from None
        input_ids, loss_mask = tokens.input_ids, tokens.loss_mask
        if len(input_ids) > self.max_length:
            if self.truncation == "error":
                raise BehaviorDataError(
                    f"{where}: field '{self.messages_key}': {len(input_ids)} tokens, more than data.max_length={self.max_length} "
                    "(raise data.max_length, or set data.truncation=right to cut such rows)"
                )
        length = len(input_ids)
        input_ids, loss_mask = input_ids[: self.max_length], loss_mask[: self.max_length]
        return {"input_ids": input_ids, "position_ids": torch.arange(len(input_ids)), "loss_mask": loss_mask}, length

    def behavior(self, item: int) -> np.ndarray:
        """log π_β of row `item`'s trainable tokens (float32)."""
        return self._behavior[item]

    def __getitem__(self, item: int) -> dict:
        sample = self.tokenize(item)
        if self._behavior is not None:
            full = torch.zeros(sample["input_ids"].shape[0], dtype=torch.float32)
            full[sample["loss_mask"].bool()] = torch.tensor(self._behavior[item])  # a copy: the array is read-only
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
    def _column(self, key: str, dtype, required: bool = False) -> Ragged:
        files = ", ".join(map(str, self.parquet_files))
        for name in (key, self.fingerprint_key) if required else (key,):
            if name not in self.dataframe.columns:
                raise BehaviorDataError(
                    f"{files}: missing column '{name}' (columns: {list(self.dataframe.columns)}); produce it with "
                    "`pear-verl score`, or set data.behavior_log_probs_key=null for plain SFT"
                )
        column = Ragged(self.dataframe[key], dtype, f"{files}: field '{key}'")
        self.dataframe = self.dataframe.drop(columns=[key])  # the arrays above hold it now
        return column

    def _validate(self) -> None:
        """Check every row before training: value checks vectorised, tokenisation split across ranks."""
        rank, world = _rank_and_world()
        errors = self._value_errors(self._behavior) if self._behavior is not None else []
        row_errors, truncated = self.row_errors(range(rank, len(self), world), quiet=rank != 0)
        errors += row_errors
        if world > 1:
            gathered: list = [None] * world
            torch.distributed.all_gather_object(gathered, (errors, truncated))
            errors = sorted({e for rank_errors, _ in gathered for e in rank_errors})
            truncated = sum(t for _, t in gathered)
        raise_row_errors(errors)
        if truncated and rank == 0:
            logger.warning("%d of %d rows are longer than data.max_length=%d and are cut (data.truncation=right): "
                           "their ends, end-of-turn tokens included, are not trained", truncated, len(self), self.max_length)

    def row_errors(self, items, quiet: bool = False) -> tuple[list[tuple[int, str]], int]:
        """Tokenise and check rows `items`: (up to 20 located errors, number of truncated rows)."""
        errors, truncated = [], 0
        for item in tqdm(items, desc="checking rows", disable=quiet):
            try:
                truncated += self._check_row(item)
            except BehaviorDataError as err:
                errors.append((item, str(err)))
                if len(errors) >= MAX_REPORTED_ERRORS:
                    break
        return errors, truncated

    def _value_errors(self, column: Ragged) -> list[tuple[int, str]]:
        """Null rows, non-finite and positive log-probs: found over the flat array, reported per row."""
        key, errors = self.behavior_key, []
        for item in np.flatnonzero(column.null)[:MAX_REPORTED_ERRORS]:
            errors.append((int(item), f"{self.where(item)}: field '{key}': expected a list of floats, got None"))
        values = column.values
        for bad, what in ((~np.isfinite(values), "is not finite"), (values > POSITIVE_TOLERANCE, "is positive")):
            flat = np.flatnonzero(bad)
            rows, firsts = np.unique(column.rows_of(flat), return_index=True)
            for item, first in list(zip(rows, firsts))[:MAX_REPORTED_ERRORS]:
                index = int(flat[first] - column.offsets[item])
                value = float(values[flat[first]])
                label = f"value {value}" if what == "is not finite" else f"log-prob {value:.6g}"
                errors.append((int(item), f"{self.where(item)}: field '{key}': {label} at index {index} {what}"))
        return errors

    def _check_row(self, item: int) -> bool:
        """Tokenise row `item` and check what is stored for it; returns whether it was truncated."""
        where = self.where(item)
        sample, length = self._tokenize(item)
        if self._response_ids is not None and not self._response_ids.null[item]:
            self._check_response_ids(item)
        n_train = int(sample["loss_mask"].sum())
        if n_train == 0:
            raise BehaviorDataError(f"{where}: field '{self.messages_key}': no trainable token within data.max_length={self.max_length}")
        if self._behavior is not None and not self._behavior.null[item]:
            count = len(self._behavior[item])
            if count != n_train:
                raise BehaviorDataError(
                    f"{where}: field '{self.behavior_key}': {count} log-probs for {n_train} trainable tokens "
                    "(scored with another tokenizer, chat template or max_length?)"
                )
            fingerprint = tokenization_fingerprint(sample["input_ids"], sample["loss_mask"])
            if self._fingerprints[item] != fingerprint:
                raise BehaviorDataError(
                    f"{where}: field '{self.fingerprint_key}': {self._fingerprints[item]!r} does not match this "
                    f"tokenisation ({fingerprint!r}); re-score the data with the training tokenizer and data config"
                )
        return length > self.max_length

    def _check_response_ids(self, item: int) -> None:
        """Sampled ids must be the last assistant message's text, or the row was edited after sampling."""
        ids = self._response_ids[item]
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.tokenizer)):
            raise BehaviorDataError(f"{self.where(item)}: field '{self.response_ids_key}': token ids outside the tokenizer's {len(self.tokenizer)}")
        text = self.tokenizer.decode(ids.tolist(), skip_special_tokens=True)
        content = [m for m in self.messages[item] if m["role"] == "assistant"][-1]["content"]
        if text.strip() != content.strip():
            raise BehaviorDataError(
                f"{self.where(item)}: field '{self.response_ids_key}': the sampled ids decode to other text than the last "
                "assistant message (edited after sampling? drop the column to train on the text)"
            )
