"""`pear-verl generate`: teacher SFT data, verified by reward_fns, with behaviour log-probs.

Why: the cleanest π_β is a known teacher. From a verl RL prompt parquet this samples n responses per
prompt from the teacher (vLLM on GPU, HF `generate` on CPU), checks each with `reward_fns`
(`compute_score(data_source, response, ground_truth)`), keeps them by policy (all / correct only /
at most m per prompt) and writes an SFT parquet (`messages` = prompt + response). Its behaviour
log-probs then come from *rescoring* the exact SFT token sequences with the same teacher and sampling
temperature (`pear_verl.score`), PEAR.md's safe default (`rescoring_settings` says which backend does it). Model, temperature, top-p, top-k, n, seed and
the keep policy are stored in the parquet metadata (`pear_verl.generation`) so the run is reproducible.

Resumable: prompts are processed in chunks, each written atomically under `OUT.gen-parts/`, each
seeded from (seed, first prompt index), so a resumed run writes the same file as an uninterrupted one.

Run: pear-verl generate data/countdown/train.parquet --model TEACHER --out sft.parquet --n 8 \
         --temperature 0.7 --keep correct --max-per-prompt 2 [--backend vllm]
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Optional

import pandas as pd
import pyarrow as pa
import torch
from tqdm import tqdm

from pear_verl.io import atomic_path, read_json_metadata, write_table_atomic
from pear_verl.score import ScoreSettings, score_shard
from pear_verl.scoring import DTYPES, resolve_dtype, torch_dtype
from reward_fns import compute_score

METADATA_KEY = b"pear_verl.generation"
KEEP = ("all", "correct")


@dataclass
class GenerationSettings:
    model: str
    n: int = 4
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: Optional[int] = None
    max_new_tokens: int = 512
    seed: int = 0
    keep: str = "correct"
    max_per_prompt: Optional[int] = None
    backend: str = "hf"
    dtype: str = "auto"  # model dtype for sampling and rescoring; auto = the checkpoint's own
    enforce_eager: bool = False  # vLLM: skip compilation and CUDA graphs (faster start for small jobs)


def select(scores: list[float], keep: str, max_per_prompt: Optional[int]) -> list[int]:
    """Indices of the responses to keep (of one prompt), in sampling order."""
    if keep not in KEEP:
        raise ValueError(f"--keep must be one of {KEEP}, got {keep!r}")
    chosen = [i for i, s in enumerate(scores) if keep == "all" or s >= 1.0]
    return chosen if max_per_prompt is None else chosen[:max_per_prompt]


def read_prompts(path: str) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    for column in ("prompt", "data_source", "reward_model"):
        if column not in frame.columns:
            raise ValueError(f"{path}: missing column '{column}' (a verl RL prompt parquet is expected)")
    for i, (prompt, reward_model) in enumerate(zip(frame["prompt"], frame["reward_model"])):
        if len(prompt) == 0 or not all(isinstance(m, dict) and "role" in m and "content" in m for m in prompt):
            raise ValueError(f"{path}: row {i}: field 'prompt': expected a non-empty list of {{role, content}} messages")
        if not isinstance(reward_model, dict) or "ground_truth" not in reward_model:
            raise ValueError(f"{path}: row {i}: field 'reward_model': missing 'ground_truth'")
    return frame


class HFGenerator:
    def __init__(self, model_path: str, dtype: str = "auto"):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch_dtype(model_path, dtype)).to(self.device).eval()

    @torch.no_grad()
    def sample(self, prompts: list[list[dict]], s: GenerationSettings, seed: int) -> list[list[tuple[str, bool]]]:
        """n (text, finished) samples per prompt."""
        texts = [self.tokenizer.apply_chat_template(list(p), add_generation_prompt=True, tokenize=False) for p in prompts]
        batch = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        torch.manual_seed(seed)
        out = self.model.generate(
            **batch, do_sample=True, temperature=s.temperature, top_p=s.top_p, top_k=s.top_k or 0,
            num_return_sequences=s.n, max_new_tokens=s.max_new_tokens,
            pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.tokenizer.eos_token_id,
        )
        new = out[:, batch["input_ids"].shape[1] :]
        results = []
        for row in new:
            finished = bool((row == self.tokenizer.eos_token_id).any())
            results.append((self.tokenizer.decode(row, skip_special_tokens=True), finished))
        return [results[i * s.n : (i + 1) * s.n] for i in range(len(prompts))]


def make_generator(s: GenerationSettings):
    if s.backend == "vllm":
        from pear_verl.vllm_backend import VLLMGenerator

        return VLLMGenerator(s.model, s.dtype, s.enforce_eager)
    return HFGenerator(s.model, s.dtype)


def rescoring_settings(s: GenerationSettings, tokenizer: Optional[str], data_config: Optional[dict]) -> ScoreSettings:
    """How the kept samples are rescored: the exact token sequences, under the sampling distribution, in the
    sampling dtype. vLLM scores prompt log-probs from raw logits only, so it rescores its own samples only
    when they were drawn at τ = 1 without truncation (on the engine that sampled them: one engine per job);
    for any other sampling settings HF rescores them, after the vLLM engine is shut down."""
    settings = ScoreSettings(s.model, tokenizer or s.model, backend="hf", dtype=s.dtype, temperature=s.temperature,
                             top_k=s.top_k, top_p=None if s.top_p >= 1 else s.top_p, data_config=dict(data_config or {}),
                             enforce_eager=s.enforce_eager)
    if s.backend == "vllm" and settings.distribution.is_plain:  # .distribution also validates τ, top-k, top-p
        settings = replace(settings, backend="vllm")
    return settings


def generate(prompts_path: str, out: str | Path, s: GenerationSettings, tokenizer: Optional[str] = None, chunk_prompts: int = 64, data_config: Optional[dict] = None) -> Path:
    """Sample, verify, keep, then rescore; returns the final SFT parquet (with behaviour log-probs)."""
    out = Path(out)
    frame = read_prompts(prompts_path)
    select([], s.keep, s.max_per_prompt)  # validate the policy before any sampling
    s = replace(s, dtype=resolve_dtype(s.model, s.dtype))  # recorded as used, not "auto"
    scoring = rescoring_settings(s, tokenizer, data_config)  # bad sampling settings fail here, before sampling
    parts = out.with_name(out.name + ".gen-parts")
    parts.mkdir(parents=True, exist_ok=True)
    generator = None
    for start in tqdm(range(0, len(frame), chunk_prompts), desc="generating", unit="chunk"):
        part = parts / f"{start:010d}.parquet"
        if part.exists():
            continue
        generator = generator or make_generator(s)
        chunk = frame.iloc[start : start + chunk_prompts]
        samples = generator.sample(list(chunk["prompt"]), s, seed=s.seed * 1_000_003 + start)
        rows = []
        for offset, (row, responses) in enumerate(zip(chunk.itertuples(index=False), samples)):
            truth = row.reward_model["ground_truth"]
            scores = [compute_score(row.data_source, text, truth)["score"] if done else 0.0 for text, done in responses]
            for k in select(scores, s.keep, s.max_per_prompt):
                text, done = responses[k]
                if not done or not text.strip():
                    continue  # cut off at max_new_tokens, or empty: not a response to train on
                rows.append({"messages": list(row.prompt) + [{"role": "assistant", "content": text}],
                             "data_source": row.data_source, "reward": scores[k], "prompt_index": start + offset, "sample_index": k})
        with atomic_path(part) as tmp:
            pd.DataFrame(rows, columns=["messages", "data_source", "reward", "prompt_index", "sample_index"]).to_parquet(tmp, index=False)
    kept = pd.concat([pd.read_parquet(p) for p in sorted(parts.glob("*.parquet"))], ignore_index=True)
    if kept.empty:
        raise ValueError("no response was kept: try --keep all, more samples (--n) or a stronger teacher")
    unscored = out.with_name(out.stem + ".unscored.parquet")
    table = pa.Table.from_pandas(kept, preserve_index=False)
    write_table_atomic(table, unscored, METADATA_KEY, {**asdict(s), "prompts": str(prompts_path)})
    # Rescoring (see rescoring_settings): reuse the vLLM engine, or shut it down before HF loads the model.
    scorer = None
    if s.backend == "vllm" and generator is not None:
        if scoring.backend == "vllm":
            from pear_verl.vllm_backend import VLLMScorer

            scorer = VLLMScorer(llm=generator.llm)
        else:
            generator.close()
    generator = None  # an HF sampling model is released before the scoring one loads
    try:
        final = score_shard([str(unscored)], out, scoring, scorer=scorer)
    finally:
        if scorer is not None:
            scorer.close()
    unscored.unlink()
    shutil.rmtree(parts)
    print(f"kept {len(kept)} responses from {len(frame)} prompts x {s.n} samples -> {final}")
    return final


def read_generation_metadata(path: str | Path) -> dict:
    return read_json_metadata(path, METADATA_KEY)


def add_commands(sub: argparse._SubParsersAction) -> None:
    gen = sub.add_parser("generate", help="teacher SFT data, verified, with behaviour log-probs")
    gen.add_argument("prompts", help="verl RL prompt parquet (prompt, data_source, reward_model)")
    gen.add_argument("--model", required=True, help="teacher")
    gen.add_argument("--out", required=True)
    gen.add_argument("--tokenizer", help="training tokenizer for rescoring (default: the teacher's)")
    gen.add_argument("--n", type=int, default=4, help="samples per prompt")
    gen.add_argument("--temperature", type=float, default=1.0)
    gen.add_argument("--top-p", type=float, default=1.0)
    gen.add_argument("--top-k", type=int)
    gen.add_argument("--max-new-tokens", type=int, default=512)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--keep", default="correct", choices=KEEP)
    gen.add_argument("--max-per-prompt", type=int)
    gen.add_argument("--backend", default="hf", choices=["hf", "vllm"])
    gen.add_argument("--dtype", default="auto", choices=DTYPES, help="model dtype for sampling and rescoring (auto: the checkpoint's)")
    gen.add_argument("--enforce-eager", action="store_true", help="vLLM: skip compilation and CUDA graphs")
    gen.add_argument("--chunk-prompts", type=int, default=64)
    gen.set_defaults(func=lambda a: generate(a.prompts, a.out, GenerationSettings(
        a.model, a.n, a.temperature, a.top_p, a.top_k, a.max_new_tokens, a.seed, a.keep, a.max_per_prompt, a.backend, a.dtype, a.enforce_eager,
    ), a.tokenizer, a.chunk_prompts))
