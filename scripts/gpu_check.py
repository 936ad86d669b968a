"""What a GPU with only torch and transformers can check: PEAR's math in bf16 on CUDA, HF scoring and the token
sampler on CUDA, each against the CPU (float64 loop references for the math).

Why: CI has no GPU. The code that runs on a GPU in a user's job and needs neither verl, Ray nor vLLM is: the
log-weights and the weighted loss (`training.weights`, `training.losses.base_token_loss`), scoring
(`behaviour.hf_backend.HFScorer`), the `hf` rollout's sampler (`cpu_runtime.token_sampler`), the log-probs
`pear-verl generate` records while sampling long responses (`behaviour.sampled.SampledLogProbs`, against
rescoring) and packed sequences (verl's remove-padding layout). Every check prints a line, and the JSON
summary is written to --out. It also runs on CPU (`--device cpu`: the tests do, so the script cannot rot).

Run: bash scripts/gpu_check.sh [--out gpu_check.json]   (91 s on an H200, docs/gpu/gpu_check_h200.json)
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import sys
import time
from pathlib import Path

import torch
import transformers

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pear_verl.behaviour.hf_backend import HFScorer  # noqa: E402
from pear_verl.behaviour.sampling import SamplingDistribution, TokenSequence  # noqa: E402
from pear_verl.training.losses import base_token_loss  # noqa: E402
from pear_verl.training.weights import pear_log_weights  # noqa: E402
from tests.reference import reference_log_weights  # noqa: E402

# The weights are float64 arithmetic on bf16-rounded inputs (the reference sees the same rounding): absolute 1e-5.
# The loss multiplies by bf16 token losses (~3 significant digits): relative 1e-2. Scoring: absolute, per token.
TOLERANCES = {"weights_bf16": 1e-5, "loss_bf16": 1e-2, "scoring_fp32": 1e-4, "scoring_bf16": 0.15,
              # Long samples: what HF generate's sampler drew with (pear_verl.behaviour.sampled) vs rescoring the same tokens.
              "sampled_vs_rescored_fp32": 1e-3, "sampled_vs_rescored_bf16": 0.3,
              # Packed rows (restarting position_ids, transformers' per-sequence masks) vs each sequence alone.
              "packed_vs_alone_fp32": 1e-4, "packed_vs_alone_bf16": 0.15}


def ragged_batch(rng: random.Random, rows: int = 16, width: int = 96):
    lp = [[-rng.expovariate(1.0) for _ in range(width)] for _ in range(rows)]
    blp = [[x + rng.gauss(0, 0.2) for x in row] for row in lp]
    mask = [[False] * rng.randint(0, 20) + [rng.random() < 0.9 for _ in range(width)] for _ in range(rows)]
    mask = [m[:width] for m in mask]
    return lp, blp, mask


def check_weights_and_loss(device: str) -> dict:
    """log G and L = Σ G·ℓ / N on `device` in bf16 vs float64 loops on CPU, for every variant."""
    rng, worst_w, worst_l = random.Random(0), 0.0, 0.0
    for variant in ("token", "block", "sequence"):
        for objective in ("nll", "dft"):
            lp, blp, mask = ragged_batch(rng)
            knobs = dict(variant=variant, gamma=0.999, block_size=4, ratio_clip=(-0.08, 0.3), log_weight_clip=(-10.0, 5.0))
            lp_dev = torch.tensor(lp, device=device, dtype=torch.bfloat16)
            got = pear_log_weights(lp_dev, torch.tensor(blp, device=device), torch.tensor(mask, device=device), **knobs)
            # The reference sees the same bf16-rounded log-probs: the comparison measures the computation.
            lp_rounded = lp_dev.double().cpu().tolist()
            want = reference_log_weights(lp_rounded, blp, mask, knobs["variant"], knobs["gamma"], knobs["block_size"], knobs["ratio_clip"], knobs["log_weight_clip"])
            want_t = torch.tensor(want, dtype=torch.float64)
            worst_w = max(worst_w, (got.cpu() - want_t).abs().max().item())
            mask_t = torch.tensor(mask)
            token_loss = base_token_loss(lp_dev, objective).float().cpu().double()
            loss = (torch.exp(got).cpu() * token_loss)[mask_t].sum() / mask_t.sum()
            ref_terms = [math.exp(want[b][i]) * ref_token_loss(lp_rounded[b][i], objective)
                         for b in range(len(mask)) for i in range(len(mask[b])) if mask[b][i]]
            ref = sum(ref_terms) / len(ref_terms)
            worst_l = max(worst_l, abs(loss.item() - ref) / max(abs(ref), 1e-12))
    return {"weights_bf16": worst_w, "loss_bf16": worst_l}


def ref_token_loss(lp: float, objective: str) -> float:
    return -lp if objective == "nll" else -math.exp(lp) * lp


def check_scoring(device: str, model_dir: Path) -> dict:
    """HF scoring on `device` (fp32 and bf16) against CPU fp32, at τ = 0.7 (random tokens: no truncation)."""
    rng = random.Random(1)
    sequences = []
    for _ in range(12):
        n = rng.randint(8, 80)
        ids = torch.tensor([rng.randrange(3, 1000) for _ in range(n)])
        mask = torch.tensor([0] * (n // 3) + [1] * (n - n // 3))
        sequences.append(TokenSequence(ids, mask))
    dist = SamplingDistribution(temperature=0.7)
    want = HFScorer(str(model_dir), dtype="float32", device="cpu").score(sequences, dist)
    out = {}
    for dtype in ("float32", "bfloat16"):
        got = HFScorer(str(model_dir), dtype=dtype, device=device, max_batch_tokens=256).score(sequences, dist)
        out[f"scoring_{'fp32' if dtype == 'float32' else 'bf16'}"] = max(float(abs(g - w).max()) for g, w in zip(got, want))
    return out


def check_sampler(device: str, model_dir: Path) -> dict:
    """Greedy ragged batch: the same tokens on `device` as on CPU; raw log-probs within fp32 noise."""
    from transformers import AutoModelForCausalLM

    from pear_verl.cpu_runtime.token_sampler import SamplingRequest, sample_batch

    rng = random.Random(2)
    requests = [SamplingRequest(tuple(rng.randrange(3, 1000) for _ in range(rng.randint(3, 30))), max_tokens=rng.randint(4, 24),
                                temperature=0.0, logprobs=True) for _ in range(8)]
    results = {}
    for where in ("cpu", device):
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32).to(where).eval()
        results[where] = sample_batch(model, requests, stop_token_ids=[2], pad_token_id=0)
    same = all(a.token_ids == b.token_ids for a, b in zip(results["cpu"], results[device]))
    diff = max(abs(x - y) for a, b in zip(results["cpu"], results[device]) for x, y in zip(a.log_probs, b.log_probs))
    return {"sampler_same_tokens": same, "sampler_logprob_diff": diff}


def check_long_sampling(device: str, model_dir: Path, new_tokens: int = 2000) -> dict:
    """HF generate of ~2,000-token samples with the sampler's log-probs recorded, then the same tokens rescored
    (HFScorer, same dtype, τ = 0.8, top-p 0.95): the two must agree, or PEAR's π_β is not what was sampled."""
    from transformers import AutoModelForCausalLM, LogitsProcessorList

    from pear_verl.behaviour.sampled import sampling_processors

    out = {}
    for dtype in ("float32", "bfloat16"):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=getattr(torch, dtype)).to(device).eval()
        prompt = torch.tensor([[1, 5, 17, 33, 2]] * 4, device=device)
        processors, recorder = sampling_processors(0.8, None, 0.95)
        with torch.no_grad():  # no end-of-turn token: every sample is new_tokens long
            seqs = model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
                                  max_new_tokens=new_tokens, logits_processor=LogitsProcessorList(processors), eos_token_id=[], pad_token_id=0)
        sampled = recorder.finish(seqs)
        sequences = [TokenSequence(row.cpu(), torch.tensor([0] * prompt.shape[1] + [1] * (len(row) - prompt.shape[1]))) for row in seqs]
        scorer = HFScorer(str(model_dir), dtype=dtype, device=device, max_batch_tokens=4096)
        rescored = scorer.score(sequences, SamplingDistribution(0.8, None, 0.95))
        diff = max(float(abs(torch.from_numpy(r).double() - s.double()).max()) for r, s in zip(rescored, sampled))
        tag = "fp32" if dtype == "float32" else "bf16"
        # Sampled tokens the rescoring put just outside the nucleus (scored at its edge: behaviour.sampling.BoundarySlack).
        out[f"sampled_vs_rescored_{tag}"], out[f"edge_tokens_{tag}"] = diff, sum(scorer.edge_tokens)
        del model
    return out


def check_packed_attention(device: str, model_dir: Path) -> dict:
    """verl's remove-padding layout: sequences packed in one row, position_ids restarting at 0; transformers
    masks attention per sequence. Log-probs must equal each sequence run alone."""
    from transformers import AutoModelForCausalLM

    rng = random.Random(3)
    seqs = [torch.tensor([rng.randrange(3, 1000) for _ in range(n)]) for n in (700, 1300, 64)]
    packed = torch.cat(seqs)[None].to(device)
    positions = torch.cat([torch.arange(len(s)) for s in seqs])[None].to(device)
    out = {}
    for dtype in ("float32", "bfloat16"):
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=getattr(torch, dtype), attn_implementation="sdpa").to(device).eval()
        with torch.no_grad():
            # use_cache=False as in training: with a cache, transformers does not look for packed sequences (it leaks).
            together = torch.log_softmax(model(input_ids=packed, position_ids=positions, use_cache=False).logits.float(), -1)[0]
            alone = torch.cat([torch.log_softmax(model(input_ids=s[None].to(device)).logits.float(), -1)[0] for s in seqs])
        out[f"packed_vs_alone_{'fp32' if dtype == 'float32' else 'bf16'}"] = float((together - alone).abs().max())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", default="gpu_check.json")
    parser.add_argument("--long-tokens", type=int, default=2000, help="tokens per long sample (the CPU test uses fewer)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device (use --device cpu to run the same checks on CPU)")
    from pear_verl.demo.tiny import save_tiny_model

    start = time.monotonic()
    model_dir = Path(args.out).resolve().parent / "gpu_check_model"
    save_tiny_model(model_dir, seed=0, hidden=64, layers=2, heads=2)
    results = {**check_weights_and_loss(args.device), **check_scoring(args.device, model_dir), **check_sampler(args.device, model_dir),
               **check_long_sampling(args.device, model_dir, args.long_tokens), **check_packed_attention(args.device, model_dir)}
    failed = [k for k, tol in TOLERANCES.items() if not results[k] <= tol] + ([] if results["sampler_same_tokens"] else ["sampler_same_tokens"])
    for key, value in results.items():
        print(f"{key:24s} {value}{'' if key not in TOLERANCES else f'   (tolerance {TOLERANCES[key]})'}")
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or "cpu"
    summary = {"device": device_name, "torch": torch.__version__, "transformers": transformers.__version__, "seconds": round(time.monotonic() - start, 1),
               "results": results, "tolerances": TOLERANCES, "failed": failed}
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    print(f"gpu_check on {device_name}: {'FAILED ' + ', '.join(failed) if failed else 'all checks passed'} ({summary['seconds']} s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
