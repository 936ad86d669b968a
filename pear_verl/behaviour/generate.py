"""`pear-verl generate`: teacher SFT data, verified by reward_fns, with behaviour log-probs.

Why: the cleanest π_β is a known teacher. From a verl RL prompt parquet this samples n responses per
prompt from the teacher (vLLM on GPU, HF `generate` on CPU), checks each with `reward_fns`
(`compute_score(data_source, response, ground_truth)`), keeps them by policy (all / correct only /
at most m per prompt) and writes an SFT parquet (`messages` = prompt + response). Its behaviour
log-probs then come from *rescoring* the exact SFT token sequences with the same teacher and sampling
temperature (`pear_verl.behaviour.score`), docs/method.md's safe default (`rescoring_settings` says which backend does it). Model, temperature, top-p, top-k, n, seed and
the keep policy are stored in the parquet metadata (`pear_verl.generation`) so the run is reproducible.

Resumable: prompts are processed in chunks, each written atomically under `OUT.gen-parts/`, each
seeded from (seed, first prompt index), so a resumed run writes the same file as an uninterrupted one,
and `--workers N` (N Ray workers, each sampling contiguous chunks and rescoring one shard on its own
device: `pear_verl.common.parallel`) writes the same file as one worker.

Run: pear-verl generate data/countdown/train.parquet --model TEACHER --out sft.parquet --n 8 \
         --temperature 0.7 --keep correct --max-per-prompt 2 [--backend vllm]
"""

from __future__ import annotations

import argparse
import shutil
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Optional

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from pear_verl.behaviour.hf_backend import HFGenerator
from pear_verl.behaviour.sampled import check_lengths, compare_log_probs
from pear_verl.behaviour.sampling import DTYPES, SamplingDistribution, resolve_dtype
from pear_verl.behaviour.score import DEFAULT_DATA_CONFIG, ScoreSettings, add_data_argument, data_settings, score_parallel, score_shard
from pear_verl.behaviour.vllm_backend import VLLMGenerator
from pear_verl.common.io import atomic_path, read_json_metadata, write_table_atomic
from pear_verl.common.parallel import add_arguments as add_worker_arguments
from pear_verl.common.parallel import check_workers, cluster, crash_point, layout_free, run_tasks, split
from pear_verl.common.provenance import check_record, parts_folder, record_of, refuse_outputs_equal_to_inputs
from pear_verl.training.chat_tokens import ChatRenderer
from pear_verl.training.data import BEHAVIOR_KEY, parse_thinking
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
    tensor_parallel_size: int = 1  # vLLM: GPUs per engine


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


def make_generator(s: GenerationSettings):
    if s.backend == "vllm":
        return VLLMGenerator(s.model, s.dtype, s.enforce_eager, tensor_parallel_size=s.tensor_parallel_size)
    return HFGenerator(s.model, s.dtype)


def rescoring_settings(s: GenerationSettings, tokenizer: Optional[str], data_config: Optional[dict]) -> ScoreSettings:
    """How the kept samples are rescored: the exact token sequences, under the sampling distribution, in the
    sampling dtype. vLLM scores prompt log-probs from raw logits only, so it rescores its own samples only
    when they were drawn at τ = 1 without truncation (on the engine that sampled them: one engine per job);
    for any other sampling settings HF rescores them, after the vLLM engine is shut down."""
    settings = ScoreSettings(s.model, tokenizer or s.model, backend="hf", dtype=s.dtype, temperature=s.temperature,
                             top_k=s.top_k, top_p=None if s.top_p >= 1 else s.top_p, data_config=dict(data_config or {}),
                             enforce_eager=s.enforce_eager, tensor_parallel_size=s.tensor_parallel_size)
    if s.backend == "vllm" and settings.distribution.is_plain:  # .distribution also validates τ, top-k, top-p
        settings = replace(settings, backend="vllm")
    return settings


def settings_errors(s: GenerationSettings) -> None:
    """Every generation setting checked before a model loads."""
    select([], s.keep, s.max_per_prompt)
    if s.n < 1:
        raise ValueError(f"--n must be >= 1, got {s.n}")
    if s.max_per_prompt is not None and s.max_per_prompt < 1:
        raise ValueError(f"--max-per-prompt must be >= 1, got {s.max_per_prompt}")
    if s.backend not in ("hf", "vllm"):
        raise ValueError(f"--backend must be hf or vllm, got {s.backend!r}")
    if s.backend == "hf" and s.tensor_parallel_size != 1:
        raise ValueError("--tensor-parallel-size is a vLLM setting: the hf backend runs one device per worker")
    SamplingDistribution(s.temperature, s.top_k, s.top_p)  # τ > 0, top-k >= 1, top-p in (0, 1]


def chat_template_kwargs(data_config: dict) -> dict:
    """The chat template kwargs training will render with: data.apply_chat_template_kwargs, plus
    data.enable_thinking_default when set (rows without their own enable_thinking column)."""
    kwargs = dict(data_config.get("apply_chat_template_kwargs") or {})
    thinking = parse_thinking(data_config.get("enable_thinking_default"))
    return {**kwargs, "enable_thinking": thinking} if thinking is not None else kwargs


def prompt_lengths(frame: pd.DataFrame, tokenizer_path: str, data_config: dict) -> list[int]:
    """Tokens of each prompt as the training tokenizer renders it, generation prompt included."""
    from transformers import AutoTokenizer

    renderer = ChatRenderer(AutoTokenizer.from_pretrained(tokenizer_path), chat_template_kwargs(data_config))
    return [len(renderer.render(list(p), None, True, None)) for p in tqdm(frame["prompt"], desc="measuring prompts", unit="prompt")]


def sample_chunk(generator, chunk: pd.DataFrame, start: int, s: GenerationSettings, chat_kwargs: dict) -> pd.DataFrame:
    """Sample one chunk of prompts, verify every response, keep by policy: one row per kept response."""
    samples = generator.sample(list(chunk["prompt"]), s, seed=s.seed * 1_000_003 + start, chat_kwargs=chat_kwargs)
    rows = []
    for offset, (row, responses) in enumerate(zip(chunk.itertuples(index=False), samples)):
        truth = row.reward_model["ground_truth"]
        scores = [compute_score(row.data_source, r.text, truth)["score"] if r.finished else 0.0 for r in responses]
        for k in select(scores, s.keep, s.max_per_prompt):
            r = responses[k]
            if not r.finished or not r.text.strip():
                continue  # cut off at max_new_tokens, or empty: not a response to train on
            rows.append({"messages": list(row.prompt) + [{"role": "assistant", "content": r.text}], "response_ids": r.token_ids,
                         "data_source": row.data_source, "reward": scores[k], "prompt_index": start + offset, "sample_index": k,
                         "sampling_log_probs": r.log_probs})
    return pd.DataFrame(rows, columns=[*OUTPUT_COLUMNS, "sampling_log_probs"])


OUTPUT_COLUMNS = ["messages", "response_ids", "data_source", "reward", "prompt_index", "sample_index"]


def sample_chunks(frame: pd.DataFrame, parts: Path, s: GenerationSettings, starts: list[int], chunk_prompts: int, chat_kwargs: dict,
                  generator=None, progress: bool = True):
    """Sample the chunks starting at `starts` not yet in `parts`, each written atomically; returns the
    generator (built only if a chunk needed it), so that rescoring can reuse a vLLM engine."""
    for start in tqdm(starts, desc="generating", unit="chunk", disable=not progress):
        part = parts / f"{start:010d}.parquet"
        if part.exists():
            continue
        generator = generator or make_generator(s)
        with atomic_path(part) as tmp:
            sample_chunk(generator, frame.iloc[start : start + chunk_prompts], start, s, chat_kwargs).to_parquet(tmp, index=False)
        crash_point()
    return generator


def _sample_shard(prompts_path: str, parts: Path, s: GenerationSettings, starts: list[int], chunk_prompts: int, chat_kwargs: dict) -> int:
    """One Ray worker's share of `generate`: its contiguous chunks, on its own engine."""
    generator = sample_chunks(read_prompts(prompts_path), parts, s, starts, chunk_prompts, chat_kwargs, progress=False)
    if generator is not None and hasattr(generator, "close"):
        generator.close()
    return len(starts)


def generate(prompts_path: str, out: str | Path, s: GenerationSettings, tokenizer: Optional[str] = None, chunk_prompts: int = 64,
             data_config: Optional[dict] = None, force: bool = False, workers: int = 1, ray_address: Optional[str] = None) -> Path:
    """Sample, verify, keep, then rescore; returns the final SFT parquet (with behaviour log-probs).

    `data_config`: the SFT stage's `data.*` settings; rescoring tokenises with them, and every prompt plus
    `max_new_tokens` must fit its `max_length`, checked before any sampling. `workers > 1`: sampling and
    rescoring are split over that many Ray workers (`pear_verl.common.parallel`); the file is the same."""
    out = Path(out)
    refuse_outputs_equal_to_inputs([out], [prompts_path])
    frame = read_prompts(prompts_path)
    settings_errors(s)
    check_workers(workers, s.tensor_parallel_size)
    s = replace(s, dtype=resolve_dtype(s.model, s.dtype))  # recorded as used, not "auto"
    data_config = {**DEFAULT_DATA_CONFIG, **(data_config or {})}
    scoring = rescoring_settings(s, tokenizer, data_config)
    record = record_of({**layout_free(asdict(s)), "tokenizer": scoring.tokenizer, "data_config": data_config, "chunk_prompts": chunk_prompts}, [prompts_path])
    if out.exists() and not force:
        check_record(out, read_generation_metadata(out).get("record", {}), record)
        print(f"[skip] {out} exists, made with the same settings and inputs")
        return out
    check_lengths(prompt_lengths(frame, scoring.tokenizer, data_config), s.max_new_tokens, data_config, prompts_path)
    parts = parts_folder(out.with_name(out.name + ".gen-parts"), record, force)
    chat_kwargs = chat_template_kwargs(data_config)
    with cluster(workers, ray_address) if workers > 1 else nullcontext():  # one Ray cluster for sampling and rescoring
        return _sample_and_score(prompts_path, frame, out, s, scoring, record, parts, chunk_prompts, chat_kwargs, force, workers, ray_address)


def _sample_and_score(prompts_path: str, frame: pd.DataFrame, out: Path, s: GenerationSettings, scoring: ScoreSettings, record: dict,
                      parts: Path, chunk_prompts: int, chat_kwargs: dict, force: bool, workers: int, ray_address: Optional[str]) -> Path:
    """`generate` once its inputs are checked: sample the missing chunks, gather, rescore, write."""
    starts = list(range(0, len(frame), chunk_prompts))
    generator = None
    if workers == 1:
        generator = sample_chunks(frame, parts, s, starts, chunk_prompts, chat_kwargs)
    else:
        todo = [start for start in starts if not (parts / f"{start:010d}.parquet").exists()]
        shards = [group for group in split(todo, min(workers, len(todo))) if group] if todo else []
        if shards:
            run_tasks(_sample_shard, [(prompts_path, parts, s, group, chunk_prompts, chat_kwargs) for group in shards], s.tensor_parallel_size, ray_address)
    kept = pd.concat([pd.read_parquet(p) for p in sorted(parts.glob("*.parquet"))], ignore_index=True)
    if kept.empty:
        raise ValueError("no response was kept: try --keep all, more samples (--n) or a stronger teacher")
    unscored = out.with_name(out.stem + ".unscored.parquet")
    table = pa.Table.from_pandas(kept[OUTPUT_COLUMNS], preserve_index=False)
    table = table.set_column(table.schema.get_field_index("response_ids"), "response_ids", pa.array(kept["response_ids"].tolist(), pa.list_(pa.int32())))
    write_table_atomic(table, unscored, METADATA_KEY, {**asdict(s), "prompts": str(prompts_path)})
    # Rescoring (see rescoring_settings): reuse the vLLM engine, or shut it down before HF loads the model.
    scorer = None
    if s.backend == "vllm" and generator is not None:
        if scoring.backend == "vllm":
            from pear_verl.behaviour.vllm_backend import VLLMScorer

            scorer = VLLMScorer(llm=generator.llm)
        else:
            generator.close()
    generator = None  # an HF sampling model is released before the scoring one loads
    try:
        scored_path = unscored.with_name(out.stem + ".scored.parquet")
        if workers > 1:
            scored = score_parallel([str(unscored)], scored_path, scoring, workers, force=force, address=ray_address)
        else:
            scored = score_shard([str(unscored)], scored_path, scoring, scorer=scorer, force=force)
    finally:
        if scorer is not None:
            scorer.close()
    final = pq.read_table(scored)
    agreement = compare_log_probs(kept["sampling_log_probs"].tolist(), final[BEHAVIOR_KEY].to_pylist())
    write_table_atomic(final, out, METADATA_KEY, {**asdict(s), "prompts": str(prompts_path), "record": record, "rescored_vs_sampled": agreement})
    for path in (unscored, scored):
        path.unlink()
    shutil.rmtree(parts)
    print(f"kept {len(kept)} responses from {len(frame)} prompts x {s.n} samples -> {out}")
    if agreement["rows"]:
        print(f"rescored vs sampled log-probs over {agreement['tokens']} tokens: max |diff| {agreement['max_abs']:.2e}, mean {agreement['mean_abs']:.2e}")
        if agreement["max_abs"] > SAMPLING_AGREEMENT:
            print(f"WARNING: rescoring disagrees with sampling by more than {SAMPLING_AGREEMENT}: the behaviour log-probs may not be "
                  "the sampling distribution (chat template, dtype or sampling settings differ between the two?)")
    return out


# Rescoring in the sampling dtype should reproduce the sampler's log-probs up to batching noise; beyond this
# something differs (template, dtype, sampling settings) and the user is told.
SAMPLING_AGREEMENT = 0.05


def read_generation_metadata(path: str | Path) -> dict:
    return read_json_metadata(path, METADATA_KEY)


def add_commands(sub: argparse._SubParsersAction) -> None:
    gen = sub.add_parser("generate", help="teacher SFT data, verified, with behaviour log-probs")
    gen.add_argument("prompts", help="verl RL prompt parquet (prompt, data_source, reward_model)")
    gen.add_argument("--model", required=True, help="teacher")
    gen.add_argument("--out", required=True, help="output parquet file (SFT messages with behaviour log-probs)")
    gen.add_argument("--tokenizer", help="training tokenizer for rescoring (default: the teacher's)")
    gen.add_argument("--n", type=int, default=4, help="samples per prompt")
    gen.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    gen.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling, in (0, 1]")
    gen.add_argument("--top-k", type=int, help="top-k sampling (none: off)")
    gen.add_argument("--max-new-tokens", type=int, default=512, help="response length limit")
    gen.add_argument("--seed", type=int, default=0, help="sampling seed")
    gen.add_argument("--keep", default="correct", choices=KEEP, help="which responses to keep: those the verifier accepts, or all")
    gen.add_argument("--max-per-prompt", type=int, help="keep at most this many responses per prompt (none: no limit)")
    gen.add_argument("--backend", default="hf", choices=["hf", "vllm"], help="hf: transformers generate (CPU); vllm: GPU")
    gen.add_argument("--dtype", default="auto", choices=DTYPES, help="model dtype for sampling and rescoring (auto: the checkpoint's)")
    gen.add_argument("--enforce-eager", action="store_true", help="vLLM: skip compilation and CUDA graphs")
    gen.add_argument("--chunk-prompts", type=int, default=64, help="prompts per resumable chunk")
    add_data_argument(gen)
    add_worker_arguments(gen)
    gen.add_argument("--force", action="store_true", help="redo an existing output or parts made with other settings or inputs")
    gen.set_defaults(func=lambda a: generate(a.prompts, a.out, GenerationSettings(
        a.model, a.n, a.temperature, a.top_p, a.top_k, a.max_new_tokens, a.seed, a.keep, a.max_per_prompt, a.backend, a.dtype, a.enforce_eager,
        a.tensor_parallel_size,
    ), a.tokenizer, a.chunk_prompts, data_settings(a.data_settings), a.force, a.workers, a.ray_address),
        check=lambda a: (check_workers(a.workers, a.tensor_parallel_size), data_settings(a.data_settings)))
