"""The transformers backend: sampling with the sampler's log-probs recorded, and prefill scoring.

Why: HF runs anywhere (CPU in CI, any GPU) and scores any sampling distribution (temperature, top-k, top-p),
which vLLM's prompt log-probs cannot. `HFGenerator` samples n responses per chat prompt through
`pear_verl.behaviour.sampled`'s recorder; `HFScorer` computes log π_β of given token sequences, packed into
length-sorted batches of at most `max_batch_tokens` padded tokens (`padding_fraction` reports the waste).

Run: used by `pear-verl generate`, `score` and `eval` with `--backend hf` (the default), and by `pear-verl report`.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch

from pear_verl.behaviour.sampled import sampling_processors
from pear_verl.behaviour.sampling import (
    BoundarySlack,
    OutsideSupport,
    Sample,
    SamplingDistribution,
    TokenSequence,
    sampling_log_probs,
    torch_dtype,
    trainable_targets,
)
from pear_verl.training.chat_tokens import end_of_turn_ids
from pear_verl.training.checkpoints import load_causal_lm


class HFGenerator:
    def __init__(self, model_path: str, dtype: str = "auto"):
        from transformers import AutoTokenizer

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
        self.model = load_causal_lm(model_path, torch_dtype(model_path, dtype), self.device)
        self.end_ids = sorted(end_of_turn_ids(self.tokenizer) | set(_generation_eos(self.model)))

    @torch.no_grad()
    def sample(self, prompts: list[list[dict]], s, seed: int, chat_kwargs: Optional[dict] = None) -> list[list[Sample]]:
        """n samples per prompt, with their token ids and sampling log-probs (`s`: a generate.GenerationSettings)."""
        from transformers import LogitsProcessorList

        texts = [self.tokenizer.apply_chat_template(list(p), add_generation_prompt=True, tokenize=False, **(chat_kwargs or {})) for p in prompts]
        batch = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        torch.manual_seed(seed)
        processors, recorder = sampling_processors(s.temperature, s.top_k, s.top_p)  # warpers, then the recorder
        out = self.model.generate(
            **batch, do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
            num_return_sequences=s.n, max_new_tokens=s.max_new_tokens, logits_processor=LogitsProcessorList(processors),
            pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.end_ids,
        )
        new = out[:, batch["input_ids"].shape[1] :].cpu()
        log_probs = recorder.finish(out)
        is_end = torch.isin(new, torch.tensor(self.end_ids))
        finished = is_end.any(dim=1)
        lengths = torch.where(finished, is_end.int().argmax(dim=1) + 1, new.shape[1])  # through the first end-of-turn token
        results = []
        for row, lp, n, done in zip(new.tolist(), log_probs.tolist(), lengths.tolist(), finished.tolist()):
            ids = row[:n]
            results.append(Sample(self.tokenizer.decode(ids, skip_special_tokens=True), done, ids, lp[:n]))
        return [results[i * s.n : (i + 1) * s.n] for i in range(len(prompts))]


def _generation_eos(model) -> list[int]:
    eos = getattr(model.generation_config, "eos_token_id", None)
    return [] if eos is None else [eos] if isinstance(eos, int) else list(eos)


class HFScorer:
    """Batched prefill scoring with a transformers causal LM."""

    def __init__(self, model_path: str, dtype: str = "auto", device: Optional[str] = None, max_batch_tokens: int = 16384,
                 slack: Optional[BoundarySlack] = BoundarySlack()):
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = load_causal_lm(model_path, torch_dtype(model_path, dtype), self.device)
        self.max_batch_tokens, self.slack = max_batch_tokens, slack
        self.padded_tokens = self.real_tokens = 0
        self.edge_tokens: list[int] = []  # per sequence of the last `score` call: scored at the top-k/top-p edge (BoundarySlack)

    @property
    def padding_fraction(self) -> float:
        return 1 - self.real_tokens / self.padded_tokens if self.padded_tokens else 0.0

    def batches(self, sequences: Sequence[TokenSequence]) -> list[list[int]]:
        """Indices grouped into length-sorted batches of at most `max_batch_tokens` padded tokens."""
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i].input_ids))
        batches, current = [], []
        for i in order:
            longest = len(sequences[i].input_ids)  # sorted: the newcomer is the longest so far
            if current and longest * (len(current) + 1) > self.max_batch_tokens:
                batches.append(current)
                current = []
            current.append(i)
        return batches + ([current] if current else [])

    @torch.no_grad()
    def score(self, sequences: Sequence[TokenSequence], dist: SamplingDistribution) -> list[np.ndarray]:
        out: list[Optional[np.ndarray]] = [None] * len(sequences)
        self.edge_tokens = [0] * len(sequences)
        for batch in self.batches(sequences):
            lengths = [len(sequences[i].input_ids) for i in batch]
            width = max(lengths)
            ids = torch.zeros(len(batch), width, dtype=torch.long)
            attention = torch.zeros(len(batch), width, dtype=torch.long)
            for row, i in enumerate(batch):  # right padding; causal attention never sees it
                ids[row, : lengths[row]] = sequences[i].input_ids
                attention[row, : lengths[row]] = 1
            logits = self.model(input_ids=ids.to(self.device), attention_mask=attention.to(self.device)).logits
            self.padded_tokens += ids.numel()
            self.real_tokens += sum(lengths)
            for row, i in enumerate(batch):
                keep = trainable_targets(sequences[i])
                positions = torch.nonzero(keep).squeeze(1)  # target index t+1 is predicted at position t
                targets = sequences[i].input_ids[1:][keep].to(self.device)
                values, at_edge = sampling_log_probs(logits[row, positions], targets, dist, self.slack)
                values = values.cpu()
                self.edge_tokens[i] = int(at_edge.sum())
                bad = torch.nonzero(~torch.isfinite(values))
                if len(bad):
                    k = int(bad[0])
                    raise OutsideSupport(i, int(positions[k]) + 1, int(targets[k]))
                out[i] = values.numpy().astype(np.float32)
        return out  # type: ignore[return-value]
