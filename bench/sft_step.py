"""Benchmark: one verl SFT step with the PEAR loss vs verl's own `sft_loss`, in one process, on CPU.

Why: PEAR promises no extra forward pass; its only cost is the weight computation inside the loss.
This builds `PearSFTTrainer` once (real verl FSDP2 engine, gloo, a small local Qwen2) and times
`train_batch` on the same batches, alternating the loss function (PEAR token variant with the paper's
defaults, then verl's `sft_loss`, order flipped every step), and prints the median ratio. Goal: <= 1.03.

Run: `.venv/bin/python bench/sft_step.py [--steps 12] [--hidden 256] [--layers 4] [--tokens 384]`
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

os.environ.setdefault("VERL_PLATFORM", "cpu")

import pandas as pd  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from tensordict.tensorclass import NonTensorData  # noqa: E402


def long_conversations(n: int, tokens: int, seed: int = 0) -> pd.DataFrame:
    """Chats whose answers are long lists of sums (roughly `tokens` tokens each)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        parts = []
        while sum(len(p) for p in parts) < tokens * 2:  # ~2 characters per token for this tokenizer
            a, b = rng.randint(0, 999), rng.randint(0, 999)
            parts.append(f"{a} + {b} = {a + b}.")
        rows.append({"messages": [{"role": "user", "content": "Add these up."}, {"role": "assistant", "content": " ".join(parts)}]})
    return pd.DataFrame(rows)


def build_trainer(work: Path, args):
    import pear_verl
    from pear_verl.behaviour.score import score_parquet
    from pear_verl.cpu_runtime.cpu_platform import enable_cpu_engines, init_cpu_process_group
    from pear_verl.demo.tiny import save_tiny_model
    from pear_verl.sft import apply_cpu_settings
    from pear_verl.training.trainer import PearSFTTrainer

    model = save_tiny_model(work / "model", seed=0, hidden=args.hidden, layers=args.layers)
    behavior = save_tiny_model(work / "behavior", seed=1, hidden=args.hidden, layers=args.layers)
    long_conversations(args.batch * 2, args.tokens).to_parquet(work / "raw.parquet", index=False)
    score_parquet(work / "raw.parquet", work / "train.parquet", str(behavior), data_config={"max_length": 4096})
    overrides = [
        "trainer.device=cpu",
        f"model.path={model}",
        f"data.train_files={work / 'train.parquet'}",
        f"data.train_batch_size={args.batch}",
        "data.max_token_len_per_gpu=4096",
        "data.max_length=4096",
        "data.num_workers=0",
        "+engine.mixed_precision.param_dtype=fp32",
        "trainer.logger=[console]",
        f"trainer.default_local_dir={work / 'ckpt'}",
        "trainer.resume_mode=disable",
    ]
    with initialize_config_dir(config_dir=str(Path(pear_verl.__file__).parent / "config"), version_base=None):
        config = compose(config_name="pear_sft", overrides=overrides)
    apply_cpu_settings(config)
    enable_cpu_engines()
    init_cpu_process_group()
    return PearSFTTrainer(config=config)


def step_inputs(trainer, batch):
    """What `SFTTrainer.fit` hands to `train_batch` for one step (verl 0.9.1)."""
    from verl.utils import tensordict_utils as tu

    cfg = trainer.config
    meta_info = {
        "use_remove_padding": cfg.model.use_remove_padding,
        "use_dynamic_bsz": cfg.data.use_dynamic_bsz,
        "max_token_len_per_gpu": cfg.data.max_token_len_per_gpu,
        "micro_batch_size_per_gpu": cfg.data.micro_batch_size_per_gpu,
        "temperature": 1.0,
        "global_batch_size": trainer.global_batch_size,
        "pad_mode": cfg.data.pad_mode,
        "pad_token_id": trainer.model_config.tokenizer.pad_token_id,
    }
    data = tu.get_tensordict(tensor_dict=batch, non_tensor_dict=meta_info)
    seqlens = trainer._get_batch_seqlens(data=data)
    tu.assign_non_tensor(data, update_lr_scheduler=True, global_token_num=NonTensorData(seqlens))
    return data, sum(seqlens)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=384, help="approximate tokens per answer")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    args = parser.parse_args()

    from verl.workers.utils.losses import sft_loss

    with tempfile.TemporaryDirectory() as tmp:
        trainer = build_trainer(Path(tmp), args)
        losses = {"pear": trainer.loss_fn, "sft": partial(sft_loss, config=None)}
        batch = next(iter(trainer.train_dataloader))
        times = {"pear": [], "sft": []}
        for step in range(args.steps + 1):  # step 0 is warm-up
            order = ["pear", "sft"] if step % 2 else ["sft", "pear"]
            for name in order:
                data, n_tokens = step_inputs(trainer, batch)
                trainer.training_client.set_loss_fn(losses[name])
                start = time.perf_counter()
                trainer.training_client.train_batch(data=data)
                if step:
                    times[name].append(time.perf_counter() - start)
    ratios = [p / s for p, s in zip(times["pear"], times["sft"])]
    print(f"model: Qwen2 hidden={args.hidden} layers={args.layers}; batch {args.batch} rows, {n_tokens} tokens/step")
    print(f"median step: PEAR {statistics.median(times['pear']):.3f}s, verl sft_loss {statistics.median(times['sft']):.3f}s")
    print(f"median PEAR/SFT step-time ratio: {statistics.median(ratios):.3f} (goal <= 1.03; {len(ratios)} paired steps)")


if __name__ == "__main__":
    main()
