"""Long-trace throughput of the HF paths on one GPU: behaviour scoring of 8K-token rows and sampling with the
sampler's log-probs recorded, for a Qwen3-1.7B-shaped model (random weights: speed does not depend on them).

Why: a long-trace run spends its data stages here. Each figure is printed against a baseline run at the same
time on the same GPU: scoring (`HFScorer`: forward + log-softmax per trainable token) against the bare
forward pass of the same batches; sampling with `pear_verl.behaviour.sampled`'s recorder against plain HF `generate`.
vLLM (`--backend vllm`) is the faster path for sampling on GPUs; these figures bound the HF fallback.

Run (on a GPU machine with torch + transformers): python bench/long_trace_gpu.py [--rows 16 --length 8192]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pear_verl.behaviour.hf_backend import HFScorer  # noqa: E402
from pear_verl.behaviour.sampled import sampling_processors  # noqa: E402
from pear_verl.behaviour.sampling import SamplingDistribution, TokenSequence  # noqa: E402

QWEN3_1_7B = dict(vocab_size=151936, hidden_size=2048, intermediate_size=6144, num_hidden_layers=28, num_attention_heads=16,
                  num_key_value_heads=8, head_dim=128, max_position_embeddings=40960, tie_word_embeddings=True)


TINY = dict(QWEN3_1_7B, vocab_size=1024, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
            num_key_value_heads=1, head_dim=32)  # --tiny: a quick run of the same code on CPU


def timed(fn) -> float:
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def main() -> None:
    from transformers import LogitsProcessorList, Qwen3Config, Qwen3ForCausalLM

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=16, help="rows scored, of --length tokens (3/4 of them trainable)")
    parser.add_argument("--length", type=int, default=8192)
    parser.add_argument("--batch", type=int, default=32, help="samples drawn at once")
    parser.add_argument("--new-tokens", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2, help="timed runs of each sampler, interleaved; the fastest counts")
    parser.add_argument("--out", help="JSON summary")
    parser.add_argument("--tiny", action="store_true", help="a tiny model on whatever device there is (checks the script)")
    args = parser.parse_args()
    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    shape = TINY if args.tiny else QWEN3_1_7B
    with torch.device(device):
        model = Qwen3ForCausalLM(Qwen3Config(**shape, dtype="bfloat16")).to(torch.bfloat16).eval()
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        scorer = HFScorer(tmp, dtype="bfloat16", device=device, max_batch_tokens=2 * args.length)
    ids = torch.randint(3, shape["vocab_size"], (args.rows, args.length))
    mask = torch.zeros(args.length, dtype=torch.long)
    mask[args.length // 4 :] = 1
    sequences = [TokenSequence(row, mask) for row in ids]
    dist = SamplingDistribution(temperature=0.7)

    def bare():
        with torch.no_grad():
            for start in range(0, args.rows, 2):
                scorer.model(input_ids=ids[start : start + 2].to(device)).logits.sum().item()

    scorer.score(sequences[:2], dist)  # warm-up
    t_bare, t_score = timed(bare), timed(lambda: scorer.score(sequences, dist))
    tokens = args.rows * args.length

    prompt = torch.randint(3, shape["vocab_size"], (args.batch, 256), device=device)
    common = dict(input_ids=prompt, attention_mask=torch.ones_like(prompt), do_sample=True, top_k=0, max_new_tokens=args.new_tokens,
                  min_new_tokens=args.new_tokens, pad_token_id=0)

    def plain():
        with torch.no_grad():
            model.generate(**common, temperature=0.7, top_p=0.95)

    def recorded():
        processors, recorder = sampling_processors(0.7, None, 0.95)
        with torch.no_grad():
            out = model.generate(**common, temperature=1.0, top_p=1.0, logits_processor=LogitsProcessorList(processors))
        recorder.finish(out)

    model.generate(**{**common, "max_new_tokens": 8, "min_new_tokens": 8})  # warm-up
    # Interleaved, fastest of each: the first long generation on a fresh GPU also pays for allocator growth.
    times = [(timed(plain), timed(recorded)) for _ in range(args.repeats)]
    t_plain, t_recorded = min(t for t, _ in times), min(t for _, t in times)
    sampled = args.batch * args.new_tokens
    summary = {
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "torch": torch.__version__,
        "model": f"Qwen3{' tiny' if args.tiny else '-1.7B'} shape, bf16",
        "scoring_tokens_per_s": tokens / t_score, "bare_forward_tokens_per_s": tokens / t_bare, "scoring_vs_bare": t_score / t_bare,
        "sampling_tokens_per_s": sampled / t_recorded, "plain_generate_tokens_per_s": sampled / t_plain, "recorded_vs_plain": t_recorded / t_plain,
        "rows": args.rows, "length": args.length, "batch": args.batch, "new_tokens": args.new_tokens,
    }
    print(f"scoring {args.rows} x {args.length} tokens: {summary['scoring_tokens_per_s']:,.0f} tok/s "
          f"(bare forward {summary['bare_forward_tokens_per_s']:,.0f} tok/s; {summary['scoring_vs_bare']:.2f}x its time)")
    print(f"sampling {args.batch} x {args.new_tokens} tokens: {summary['sampling_tokens_per_s']:,.0f} tok/s with log-probs recorded "
          f"(plain generate {summary['plain_generate_tokens_per_s']:,.0f} tok/s; {summary['recorded_vs_plain']:.2f}x its time)")
    if args.out:
        Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
