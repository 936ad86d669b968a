"""`pear-verl score`: add behaviour log-probs to an SFT parquet, exactly aligned with PEAR training.

Why: PEAR needs log π_β of every trainable token, for the tokens the trainer will see. Rows are
tokenised by `PearSFTDataset` itself (verl's `MultiTurnSFTDataset`), and the output carries the columns
that dataset validates: `behavior_log_probs` and `behavior_fingerprint`.

At scale: `--workers N` scores N contiguous slices on N Ray workers, one device each, and merges them
(`pear_verl.common.parallel`). By hand, `--shard i/n` scores one slice (pin its device with CUDA_VISIBLE_DEVICES)
and `pear-verl score-merge OUT --shards n` concatenates the shard files in row order; either way the
result is the same file as one run. Work is done in chunks of rows, each written atomically under `OUT.parts/`; a killed
run resumes from the chunks it finished, nothing is written twice, and the final file appears in one
rename. The scoring settings are stored in the parquet's metadata (`read_behavior_metadata`).

Run:
    pear-verl score sft.parquet --out scored.parquet --model TEACHER [--tokenizer STUDENT] \
        [--backend hf|vllm] [--temperature 0.7] [--top-p 0.95] [--shard 0/8] [--data max_length=4096] [--dtype auto]
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Optional

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from pear_verl.behaviour.hf_backend import HFScorer
from pear_verl.behaviour.sampling import DTYPES, BoundarySlack, OutsideSupport, SamplingDistribution, TokenSequence, resolve_dtype
from pear_verl.behaviour.vllm_backend import VLLMScorer
from pear_verl.common import checks
from pear_verl.common.io import atomic_path, read_json_metadata, write_table_atomic
from pear_verl.common.parallel import add_arguments as add_worker_arguments
from pear_verl.common.parallel import check_workers, crash_point, layout_free, run_tasks
from pear_verl.common.provenance import check_record, parts_folder, record_of, refuse_outputs_equal_to_inputs
from pear_verl.training.data import BEHAVIOR_KEY, FINGERPRINT_KEY, BehaviorDataError, PearSFTDataset, raise_row_errors, tokenization_fingerprint

METADATA_KEY = b"pear_verl.behavior"
DEFAULT_DATA_CONFIG = {"pad_mode": "no_padding", "truncation": "error", "max_length": 1024}


def make_scorer(backend: str, model_path: str, dtype: str, max_batch_tokens: int = 16384, enforce_eager: bool = False,
                slack: Optional[BoundarySlack] = BoundarySlack(), **engine):
    """`engine`: further vLLM engine arguments (e.g. tensor_parallel_size > 1); HF ignores tensor_parallel_size=1.
    `slack` is the HF scorer's (vLLM scores only untruncated distributions, which have no edge)."""
    if backend == "hf":
        if engine.get("tensor_parallel_size", 1) != 1:
            raise ValueError("--tensor-parallel-size is a vLLM setting: the hf backend runs one device per worker")
        return HFScorer(model_path, dtype=dtype, max_batch_tokens=max_batch_tokens, slack=slack)
    if backend == "vllm":
        return VLLMScorer(model_path, dtype=dtype, enforce_eager=enforce_eager, **engine)
    raise ValueError(f"unknown scoring backend {backend!r} (hf, vllm)")


@dataclass
class ScoreSettings:
    model: str
    tokenizer: str
    backend: str = "hf"
    dtype: str = "float32"
    temperature: float = 1.0
    top_k: Optional[int] = None
    top_p: Optional[float] = None
    data_config: dict = field(default_factory=dict)
    enforce_eager: bool = False  # vLLM: no compilation / CUDA graphs (faster start-up for small jobs)
    tensor_parallel_size: int = 1  # vLLM: GPUs per engine
    slack: BoundarySlack = field(default_factory=BoundarySlack)  # hf: tokens at the top-k/top-p edge

    @property
    def distribution(self) -> SamplingDistribution:
        return SamplingDistribution(self.temperature, self.top_k, self.top_p)


def parse_shard(text: str) -> tuple[int, int]:
    index, _, count = text.partition("/")
    i, n = int(index), int(count)
    if not (0 <= i < n):
        raise ValueError(f"--shard must be i/n with 0 <= i < n, got {text!r}")
    return i, n


def shard_path(out: Path, i: int, n: int) -> Path:
    return out if n == 1 else out.with_name(f"{out.stem}.shard-{i}-of-{n}{out.suffix}")


def check_tokenizers(settings: ScoreSettings, tokenizer) -> None:
    """The behaviour model must use the training tokenizer's token ids, or per-token ratios are meaningless."""
    from transformers import AutoConfig, AutoTokenizer

    if settings.tokenizer != settings.model:
        theirs = AutoTokenizer.from_pretrained(settings.model).get_vocab()
        ours = tokenizer.get_vocab()
        differ = sorted(set(ours.items()) ^ set(theirs.items()))
        if differ:
            raise BehaviorDataError(
                f"behaviour model {settings.model} tokenises differently from the training tokenizer "
                f"{settings.tokenizer} ({len(differ)} vocabulary entries differ, e.g. {differ[0]}); "
                "PEAR needs log-probs of the same token ids"
            )
    vocab = AutoConfig.from_pretrained(settings.model).vocab_size
    if vocab < len(tokenizer):
        raise BehaviorDataError(f"behaviour model {settings.model} has {vocab} embeddings but the tokenizer has {len(tokenizer)} tokens")


def score_shard(in_paths: list[str], out: str | Path, settings: ScoreSettings, shard: tuple[int, int] = (0, 1), chunk_rows: int = 512,
                max_batch_tokens: int = 16384, scorer=None, force: bool = False) -> Path:
    """Score one shard (resumable); returns the file written. `scorer`: an already built scorer to use
    (`generate` passes its vLLM engine's), else one is built for `settings` when the first chunk needs it.
    An existing output or part folder is reused only if made with the same settings and inputs
    (`pear_verl.common.provenance`); otherwise this refuses, unless `force`."""
    from transformers import AutoTokenizer

    out = Path(out)
    target = shard_path(out, *shard)
    refuse_outputs_equal_to_inputs([out, target], in_paths)
    settings, data_config, record = _record(in_paths, settings)
    if _finished(target, record, force):
        return target
    if settings.backend == "vllm":
        VLLMScorer.check(settings.distribution)  # before any engine starts, and before tokenising everything
    tokenizer = AutoTokenizer.from_pretrained(settings.tokenizer)
    check_tokenizers(settings, tokenizer)
    dataset = PearSFTDataset(list(in_paths), tokenizer, data_config, check_rows=False)
    i, n = shard
    rows = range(len(dataset) * i // n, len(dataset) * (i + 1) // n)
    raise_row_errors(dataset.row_errors(rows)[0])  # every row of the shard, before any model loads

    parts = parts_folder(out.with_name(out.name + ".parts"), record, force)
    own_scorer = None  # built here (the caller passed none), so closed here
    bar = tqdm(total=len(rows), desc=f"scoring shard {i}/{n}", unit="row")
    tokens, start_time = 0, time.monotonic()
    try:
        for start in range(rows.start, rows.stop, chunk_rows):
            stop = min(start + chunk_rows, rows.stop)
            part = parts / f"shard{i}of{n}-{start:010d}.parquet"
            if part.exists():  # finished before a restart
                bar.update(stop - start)
                continue
            if scorer is None:
                scorer = own_scorer = make_scorer(settings.backend, settings.model, settings.dtype, max_batch_tokens, settings.enforce_eager, settings.slack,
                                                  tensor_parallel_size=settings.tensor_parallel_size)
            samples = [dataset.tokenize(item) for item in range(start, stop)]
            sequences = [TokenSequence(s["input_ids"], s["loss_mask"]) for s in samples]
            try:
                values = scorer.score(sequences, settings.distribution)
            except OutsideSupport as err:
                raise BehaviorDataError(
                    f"{dataset.where(start + err.sequence)}: token {err.token} at position {err.position} has probability 0 "
                    f"under top_k={settings.top_k}, top_p={settings.top_p}, beyond "
                    + " and ".join(f"--{k}-slack {v}" for k, v, used in (("top-k", settings.slack.top_k_logit, settings.top_k),
                                                                         ("top-p", settings.slack.top_p_mass, settings.top_p)) if used)
                    + ": was the data really sampled with these settings?"
                ) from None
            frame = pd.DataFrame(
                {
                    "__row": list(range(start, stop)),
                    BEHAVIOR_KEY: [v.tolist() for v in values],
                    FINGERPRINT_KEY: [tokenization_fingerprint(s["input_ids"], s["loss_mask"]) for s in samples],
                    "__edge": scorer.edge_tokens,
                }
            )
            with atomic_path(part) as tmp:
                frame.to_parquet(tmp, index=False)
            crash_point()
            tokens += sum(len(s["input_ids"]) for s in samples)
            bar.update(stop - start)
            bar.set_postfix(tok_per_s=f"{tokens / (time.monotonic() - start_time):.0f}", padding=f"{scorer.padding_fraction:.1%}")
    finally:
        if own_scorer is not None and hasattr(own_scorer, "close"):
            own_scorer.close()
    bar.close()

    chunks = [pd.read_parquet(p) for p in sorted(parts.glob(f"shard{i}of{n}-*.parquet"))]
    scored = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame({"__row": [], BEHAVIOR_KEY: [], FINGERPRINT_KEY: []})  # an empty shard
    if scored["__row"].tolist() != list(rows):
        raise RuntimeError(f"{parts}: chunks do not cover rows {rows.start}..{rows.stop - 1}; delete it and rerun")
    # The input rows with their original schema (read by pyarrow, not round-tripped through pandas).
    source = pa.concat_tables([pq.read_table(p) for p in dataset.parquet_files], promote_options="default")
    source = source.slice(rows.start, len(rows)).drop_columns([c for c in (BEHAVIOR_KEY, FINGERPRINT_KEY) if c in source.column_names])
    source = source.append_column(BEHAVIOR_KEY, pa.array(scored[BEHAVIOR_KEY].tolist(), type=pa.list_(pa.float32())))
    source = source.append_column(FINGERPRINT_KEY, pa.array(scored[FINGERPRINT_KEY].tolist(), type=pa.string()))
    edge = int(scored["__edge"].sum()) if "__edge" in scored else 0
    report_edge_tokens(target, edge, sum(len(v) for v in scored[BEHAVIOR_KEY]))
    write_table_atomic(source, target, METADATA_KEY, {**asdict(settings), "record": record, "edge_tokens": edge})
    for p in parts.glob(f"shard{i}of{n}-*.parquet"):
        p.unlink()
    if n == 1:  # other shards may still be writing theirs; merging removes the folder
        _remove_if_empty(parts)
    return target


def _record(in_paths: list[str], settings: ScoreSettings) -> tuple[ScoreSettings, dict, dict]:
    """Settings as used ("auto" dtype resolved), the data config, and the provenance record of a scoring job."""
    settings = replace(settings, dtype=resolve_dtype(settings.model, settings.dtype))
    data_config = {**DEFAULT_DATA_CONFIG, **settings.data_config, "behavior_log_probs_key": None}
    return settings, data_config, record_of({**layout_free(asdict(settings)), "data_config": data_config}, in_paths)


def _finished(target: Path, record: dict, force: bool) -> bool:
    """An existing output made with the same record is reused; one made otherwise is refused unless forced."""
    if not target.exists() or force:
        return False
    check_record(target, read_behavior_metadata(target).get("record", {}), record)
    print(f"[skip] {target} exists, made with the same settings and inputs")
    return True


def _remove_if_empty(parts: Path) -> None:
    if parts.exists() and not any(p.suffix == ".parquet" for p in parts.iterdir()):
        shutil.rmtree(parts)


def score_parallel(in_paths: list[str], out: str | Path, settings: ScoreSettings, workers: int, chunk_rows: int = 512,
                   max_batch_tokens: int = 16384, force: bool = False, address: Optional[str] = None) -> Path:
    """`score_shard` over `workers` Ray workers (shard i/workers each, `pear_verl.common.parallel`), then merged:
    the same rows, in the same order, as one run. `workers == 1` scores in this process."""
    check_workers(workers, settings.tensor_parallel_size)
    if workers == 1:
        return score_shard(in_paths, out, settings, (0, 1), chunk_rows, max_batch_tokens, force=force)
    out = Path(out)
    refuse_outputs_equal_to_inputs([out] + [shard_path(out, i, workers) for i in range(workers)], in_paths)
    _, _, record = _record(in_paths, settings)
    if _finished(out, record, force):
        return out
    # The driver prepares the shared parts folder (workers starting it at once would race) and, when
    # forced, removes old shard files, so the workers themselves never need --force.
    parts_folder(out.with_name(out.name + ".parts"), record, force)
    if force:
        for i in range(workers):
            shard_path(out, i, workers).unlink(missing_ok=True)
    calls = [(in_paths, out, settings, (i, workers), chunk_rows, max_batch_tokens) for i in range(workers)]
    run_tasks(score_shard, calls, settings.tensor_parallel_size, address)
    merge_shards(out, workers)
    for i in range(workers):
        shard_path(out, i, workers).unlink()
    return out


def score_parquet(in_path, out_path, model: str, temperature: float = 1.0, data_config: Optional[dict] = None, tokenizer: Optional[str] = None,
                  force: bool = False, **settings) -> Path:
    """One-call form of `score_shard` (a single shard) for scripts and tests."""
    config = ScoreSettings(model, tokenizer or model, temperature=temperature, data_config=dict(data_config or {}), **settings)
    return score_shard([str(in_path)], out_path, config, force=force)


def read_behavior_metadata(path: str | Path) -> dict:
    return read_json_metadata(path, METADATA_KEY)


EDGE_WARNING_SHARE = 1e-3  # more edge tokens than this suggests other sampling settings, not numerical noise


def report_edge_tokens(target: Path, edge: int, tokens: int) -> None:
    if edge:
        share = edge / max(tokens, 1)
        print(f"{target}: {edge} of {tokens} trainable tokens ({share:.3%}) lay just outside the rescored top-k/top-p set, "
              "within the slack, and were scored at its edge"
              + (": more than numerical noise explains; were the data sampled with these top-k/top-p?" if share > EDGE_WARNING_SHARE else ""))


def merge_shards(out: str | Path, n: int) -> Path:
    out = Path(out)
    paths = [shard_path(out, i, n) for i in range(n)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"missing shard files: {missing}")
    metas = [read_behavior_metadata(p) for p in paths]
    edge = sum(m.pop("edge_tokens", 0) for m in metas)  # per shard: summed, not compared
    if any(m != metas[0] for m in metas):
        raise ValueError("shards were scored with different settings; refusing to merge")
    table = pa.concat_tables([pq.read_table(p) for p in paths])
    write_table_atomic(table, out, METADATA_KEY, {**metas[0], "edge_tokens": edge})
    _remove_if_empty(out.with_name(out.name + ".parts"))
    return out


# The `data.*` keys that change how rows are read or tokenised (verl's MultiTurnSFTDataset and PearSFTDataset).
DATA_KEYS = ("max_length", "truncation", "pad_mode", "messages_key", "tools_key", "enable_thinking_key", "enable_thinking_default",
             "apply_chat_template_kwargs", "train_turns", "end_of_turn_tokens", "response_ids_key", "ignore_input_ids_mismatch")


def data_settings(pairs: list[str]) -> dict:
    """`--data key=value` pairs as a data config, refused up front when a key is not a data.* setting or a value
    cannot be one (a typo would otherwise be ignored and the stages would tokenise differently)."""
    config = checks.key_values(pairs, "--data")
    for key, value in config.items():
        if key not in DATA_KEYS:
            close = difflib.get_close_matches(key, DATA_KEYS, n=1)
            raise ValueError(f"--data {key}: not a data.* setting{f'; did you mean {close[0]}?' if close else ''} (settings: {', '.join(DATA_KEYS)})")
    if "max_length" in config:
        checks.number("--data max_length", config["max_length"], integer=True, low=1)
    for key, allowed in (("truncation", ("error", "right")), ("train_turns", ("all", "last")), ("pad_mode", ("no_padding",))):
        if key in config:
            checks.choice(f"--data {key}", config[key], allowed)
    if "apply_chat_template_kwargs" in config and not isinstance(config["apply_chat_template_kwargs"], dict):
        raise ValueError(f"--data apply_chat_template_kwargs: expected a JSON object, got {config['apply_chat_template_kwargs']!r}")
    return config


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    """`--data key=value`: the SFT stage's `data.*` settings (every stage that tokenises must use the same)."""
    parser.add_argument("--data", dest="data_settings", action="append", default=[], metavar="KEY=VALUE",
                        help="the training stage's data.* setting (values read as JSON), repeatable: e.g. --data max_length=8192 "
                             "--data 'apply_chat_template_kwargs={\"enable_thinking\": true}' --data train_turns=last; "
                             f"defaults: {DEFAULT_DATA_CONFIG}")


def add_commands(sub: argparse._SubParsersAction) -> None:
    score = sub.add_parser("score", help="add behaviour log-probs to an SFT parquet")
    score.add_argument("inputs", nargs="+", help="SFT parquet file(s) with a messages column")
    score.add_argument("--out", required=True, help="output parquet file (chunks are kept under OUT.parts/ until done)")
    score.add_argument("--model", required=True, help="behaviour model (HF folder or hub id)")
    score.add_argument("--tokenizer", help="training tokenizer (default: the behaviour model's)")
    score.add_argument("--backend", default="hf", choices=["hf", "vllm"], help="hf: transformers forward (CPU or GPU); vllm: prompt log-probs on GPU")
    score.add_argument("--dtype", default="float32", choices=DTYPES, help="model dtype for the forward (auto: the checkpoint's)")
    score.add_argument("--enforce-eager", action="store_true", help="vLLM: skip compilation and CUDA graphs")
    score.add_argument("--temperature", type=float, default=1.0, help="the temperature the responses were sampled at (scored under that distribution)")
    score.add_argument("--top-k", type=int, help="the top-k the responses were sampled with (none: no truncation)")
    score.add_argument("--top-p", type=float, help="the top-p the responses were sampled with (none: no truncation)")
    score.add_argument("--top-k-slack", type=float, default=BoundarySlack.top_k_logit,
                       help="a sampled token up to this many logits (after temperature) below the k-th is scored at the top-k edge, "
                            "not refused: sampler and rescoring differ by numerical noise")
    score.add_argument("--top-p-slack", type=float, default=BoundarySlack.top_p_mass,
                       help="a sampled token whose more likely tokens hold less than top_p + this mass is scored at the top-p edge, "
                            "not refused (0: no slack beyond ties)")
    score.add_argument("--shard", default="0/1", help="i/n: score the i-th of n contiguous slices, launched by hand (then merge with "
                       "score-merge); each process uses GPU 0 unless pinned: CUDA_VISIBLE_DEVICES=i pear-verl score ... --shard i/n. "
                       "--workers N does this on Ray, one device per shard")
    score.add_argument("--chunk-rows", type=int, default=512, help="rows per resumable chunk")
    score.add_argument("--max-batch-tokens", type=int, default=16384, help="padded tokens per forward (hf)")
    add_data_argument(score)
    add_worker_arguments(score)
    score.add_argument("--force", action="store_true", help="redo an existing output or parts made with other settings or inputs")

    def run(a):
        settings = ScoreSettings(a.model, a.tokenizer or a.model, a.backend, a.dtype, a.temperature, a.top_k, a.top_p, data_settings(a.data_settings),
                                 a.enforce_eager, a.tensor_parallel_size, BoundarySlack(a.top_k_slack, a.top_p_slack))
        check_worker_options(a)
        if a.workers > 1:
            print(score_parallel(a.inputs, a.out, settings, a.workers, a.chunk_rows, a.max_batch_tokens, a.force, a.ray_address))
        else:
            print(score_shard(a.inputs, a.out, settings, parse_shard(a.shard), a.chunk_rows, a.max_batch_tokens, force=a.force))

    def check_worker_options(a):
        check_workers(a.workers, a.tensor_parallel_size)
        BoundarySlack(a.top_k_slack, a.top_p_slack)
        if a.workers > 1 and a.shard != "0/1":
            raise ValueError("--workers splits the job into shards itself: use it or --shard, not both")
        data_settings(a.data_settings)

    score.set_defaults(func=run, check=check_worker_options)
    merge = sub.add_parser("score-merge", help="concatenate `score --shard i/n` outputs in row order")
    merge.add_argument("out", help="the --out given to every `score --shard i/n` (its shard files are read)")
    merge.add_argument("--shards", type=int, required=True, help="n of --shard i/n")
    merge.set_defaults(func=lambda a: print(merge_shards(a.out, a.shards)))
