"""Checkpoints every stage can trust: strict loading, LoRA exports merged into full models, and the
same training data on every SFT rank.

Why:
- transformers fills weights it did not find with random values and only logs a table; a stage that
  loads such a checkpoint computes numbers from a random model. `load_causal_lm` refuses instead.
- With `model.lora_rank>0`, verl 0.9.1's `hf_model` export (`global_step_N/huggingface`) holds the
  PEFT model's keys (`base_model.model....base_layer.weight`, `....lora_A.default.weight`), which
  transformers does not recognise. `merge_lora_on_save` makes every LoRA save also write
  `global_step_N/lora_adapter` (a PEFT adapter for `model.lora_adapter_path`) and replace the
  export's weights with base + adapter merged by peft's `merge_and_unload`: `huggingface/` is then a
  full model, the folder the later stages already take.
- torchrun ranks on different nodes read `data.train_files` from their own filesystems; if the
  files differ, ranks train on different data without an error. `check_same_data` compares a content
  hash over torch.distributed before training and refuses, naming the ranks and files.

Run: `python -m pear_verl.training.checkpoints check DIR` loads DIR on CPU and exits non-zero, naming the first
missing or unexpected keys, if any weight did not load. `pear_verl.sft` calls the other two itself.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import logging
import re
import shutil
import socket
from pathlib import Path

import torch

logger = logging.getLogger(__name__)

PEFT_PREFIX = "base_model.model."
# Adapter tensors of LoRA (linear and embedding) and DoRA layers in a PEFT state dict.
_ADAPTER_KEY = re.compile(r"\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B|lora_magnitude_vector)\.")
_WEIGHT_FILES = ("*.safetensors", "*.safetensors.index.json", "*.bin", "*.bin.index.json")
_SHOWN_KEYS = 3


class IncompleteCheckpoint(ValueError):
    """A checkpoint whose weights do not match its architecture (missing or unexpected keys)."""


def check_loading_info(path, info: dict, hint: str = "") -> None:
    """Raise `IncompleteCheckpoint` (message ending in `hint`) unless transformers' loading info shows
    every weight loaded."""
    problems = []
    for field in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        keys = sorted(map(str, info.get(field) or ()))
        if keys:
            more = f" (+{len(keys) - _SHOWN_KEYS} more)" if len(keys) > _SHOWN_KEYS else ""
            problems.append(f"{len(keys)} {field.replace('_', ' ')}: {', '.join(keys[:_SHOWN_KEYS])}{more}")
    if problems:
        raise IncompleteCheckpoint(f"{path}: weights did not all load: {'; '.join(problems)}{hint}")


def load_causal_lm(path, dtype=None, device=None):
    """`AutoModelForCausalLM.from_pretrained(path, dtype=dtype)` on `device`, in eval mode, refusing a
    checkpoint whose weights did not all load (transformers would initialise them randomly)."""
    from transformers import AutoModelForCausalLM

    model, info = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, output_loading_info=True)
    peft = any(str(key).startswith(PEFT_PREFIX) for key in info.get("unexpected_keys") or ())
    check_loading_info(path, info, " (PEFT keys: a LoRA export that pear_verl.sft did not merge)" if peft else "")
    return (model.to(device) if device is not None else model).eval()


def _read_safetensors(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    state = {}
    for file in sorted(folder.glob("*.safetensors")):
        state.update(load_file(file))
    return state


def merge_lora_export(hf_dir, lora_config, adapter_dir, base_model: str | None = None) -> bool:
    """Turn verl's PEFT-keyed `hf_dir` into a full HF model (base + adapter merged) and write the
    adapter alone to `adapter_dir` (recording `base_model` as its base). `lora_config` is the run's
    `peft.LoraConfig`. Returns False (and changes nothing) when `hf_dir` holds no PEFT weights: no
    `hf_model` saved, or already merged."""
    from peft import get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    hf_dir, adapter_dir = Path(hf_dir), Path(adapter_dir)
    state = _read_safetensors(hf_dir)
    if not any(key.startswith(PEFT_PREFIX) for key in state):
        return False
    adapter = {key: state.pop(key) for key in [k for k in state if _ADAPTER_KEY.search(k)]}
    base = {key.removeprefix(PEFT_PREFIX).replace(".base_layer.", "."): value for key, value in state.items()}
    dtype = next(iter(base.values())).dtype
    config = AutoConfig.from_pretrained(hf_dir)
    with torch.device("meta"):  # the concrete class: the Auto class cannot load from a state dict alone
        model_class = type(AutoModelForCausalLM.from_config(config))
    model, info = model_class.from_pretrained(None, config=config, state_dict=base, dtype=dtype, output_loading_info=True)
    check_loading_info(f"{hf_dir} (base weights)", info)
    peft_model = get_peft_model(model, copy.deepcopy(lora_config))
    peft_model.peft_config["default"].base_model_name_or_path = base_model  # the model was built from a state dict
    expected = {key for key in peft_model.state_dict() if _ADAPTER_KEY.search(key)}
    check_loading_info(f"{hf_dir} (adapter)", {"missing_keys": expected - set(adapter), "unexpected_keys": set(adapter) - expected})
    peft_model.load_state_dict(adapter, strict=False)

    # save_embedding_layers=False: verl does not resize the vocabulary, so the base's embeddings stand.
    _replace_folder(adapter_dir, lambda staging: peft_model.save_pretrained(staging, save_embedding_layers=False))
    merged = peft_model.merge_and_unload()

    def write_merged(staging: Path) -> None:
        merged.save_pretrained(staging)
        for file in hf_dir.iterdir():  # verl's config, tokenizer and generation config, as in a full export
            if file.is_file() and not any(file.match(pattern) for pattern in _WEIGHT_FILES):
                shutil.copy2(file, staging / file.name)

    _replace_folder(hf_dir, write_merged)
    logger.warning("LoRA export merged: %s is now base + adapter (adapter alone in %s)", hf_dir, adapter_dir)
    return True


def _replace_folder(folder: Path, write) -> None:
    """`write(staging)` into a sibling `.tmp` folder, then swap it in for `folder`: a kill leaves the old
    folder or the complete new one (between the two renames, under `.old` / `.tmp`), never half a one."""
    staging, old = folder.with_name(folder.name + ".tmp"), folder.with_name(folder.name + ".old")
    for leftover in (staging, old):
        shutil.rmtree(leftover, ignore_errors=True)
    staging.mkdir(parents=True)
    write(staging)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def merge_lora_on_save(trainer) -> None:
    """Make every checkpoint save of a LoRA `SFTTrainer` merge its `huggingface/` export (rank 0
    merges; every rank raises if it fails). Does nothing for a run without LoRA."""
    import torch.distributed as dist

    module = trainer.engine.module
    peft_config = getattr(getattr(module, "_fsdp_wrapped_module", module), "peft_config", None)
    if not peft_config:
        return
    lora_config = peft_config["default"]
    handler = trainer.ckpt_handler
    save = handler.save_checkpoint

    def save_and_merge(step):
        save(step)
        step_dir = Path(handler.default_local_dir) / f"global_step_{step}"
        error = [None]
        if dist.get_rank() == 0:
            try:
                merge_lora_export(step_dir / "huggingface", lora_config, step_dir / "lora_adapter", trainer.config.model.path)
            except Exception as exc:  # reported on every rank below, not only rank 0
                logger.exception("merging the LoRA export failed")
                error = [f"{type(exc).__name__}: {exc}"]
        dist.broadcast_object_list(error, src=0)
        if error[0]:
            raise RuntimeError(f"{step_dir / 'huggingface'}: merging the LoRA export failed: {error[0]}")

    handler.save_checkpoint = save_and_merge


def _as_list(files) -> list[str]:
    if files is None:
        return []
    return [str(files)] if isinstance(files, (str, Path)) else [str(f) for f in files]


def file_digest(path: str) -> str:
    """sha256 of a local file's content (first 12 hex digits); remote URLs are compared by name."""
    if "://" in path:
        return "url"
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()[:12]
    except FileNotFoundError:
        return "missing"


def data_view(data_config) -> dict:
    """What this rank trains and validates on: {field: [(path, digest)]}, plus its host name."""
    fields = {name: [(p, file_digest(p)) for p in _as_list(data_config.get(name))] for name in ("train_files", "val_files")}
    return {"host": socket.gethostname(), "files": fields}


def describe_mismatch(views: list[dict]) -> str | None:
    """None if every rank's files have the same content; else one line naming ranks, hosts and files."""
    contents = [{name: [digest for _, digest in files] for name, files in view["files"].items()} for view in views]
    if all(content == contents[0] for content in contents):
        return None
    groups: dict[str, list[int]] = {}
    for rank, view in enumerate(views):
        seen = "; ".join(f"data.{name}=" + ",".join(f"{p} (sha256 {d})" for p, d in files) for name, files in view["files"].items() if files)
        groups.setdefault(f"(host {view['host']}): {seen}", []).append(rank)
    parts = [f"rank{'s' if len(r) > 1 else ''} {','.join(map(str, r))} {seen}" for seen, r in groups.items()]
    return "ranks see different data, every rank must read the same files: " + " | ".join(parts)


def check_same_data(data_config) -> None:
    """Refuse (ValueError on every rank) unless all ranks' train/val files have the same content."""
    import torch.distributed as dist

    views = [None] * dist.get_world_size()
    dist.all_gather_object(views, data_view(data_config))
    message = describe_mismatch(views)
    if message:
        raise ValueError(message)


def main() -> None:
    parser = argparse.ArgumentParser(description="Refuse a HF checkpoint whose weights do not all load.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="load DIR on CPU; exit 1 naming missing/unexpected keys")
    check.add_argument("path")
    args = parser.parse_args()
    try:
        load_causal_lm(args.path, dtype="auto")
    except IncompleteCheckpoint as exc:
        raise SystemExit(str(exc)) from None
    print(f"{args.path}: every weight loaded")


if __name__ == "__main__":
    main()
