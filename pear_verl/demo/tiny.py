"""Tiny local models: a ChatML BPE tokenizer trained in-process and a ~100K-parameter Qwen2.

Why: tests, the CPU demo and the benchmarks must run the *real* verl trainer with no model hub. A
Qwen2 architecture keeps every verl code path (FSDP wrapping, HF export) the same as for real Qwen
checkpoints; only the sizes differ.

Run: `python -m pear_verl.demo.tiny OUT_DIR [--seed 0]` writes a HF model folder (config, weights,
tokenizer, chat template) that `model.path=OUT_DIR` accepts.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# The smallest shape vLLM's CPU attention serves (head_dim 32): tests and recipes that use vLLM take it.
VLLM_TINY = dict(hidden=64, heads=2)


def _corpus(rng: random.Random, n: int = 2000, per_game: int = 50) -> list[str]:
    """Text the BPE merges are learned from: arithmetic, short English, LaTeX-ish answers, and the
    prompts and solver answers of every built-in game (so game prompts take few tokens: faster runs)."""
    from reward_fns.games import BUILTIN_GAMES, get_game

    words = "the answer is what of and to a in numbers make use each once target reach solve".split()
    lines = []
    for _ in range(n):
        a, b = rng.randint(0, 999), rng.randint(0, 999)
        lines.append(f"{a} + {b} = {a + b}. {a} * {b} = {a * b}. \\boxed{{{a - b}}}")
        lines.append(" ".join(rng.choice(words) for _ in range(8)) + "?")
    for name in BUILTIN_GAMES:  # not third-party games: the tokenizer must not depend on what is installed
        game = get_game(name)
        for _ in range(per_game):
            puzzle = game.generate(rng)
            lines.append(game.prompt(puzzle) + f" <answer>{game.solve(puzzle)}</answer>")
    return lines


def build_tokenizer(seed: int = 0, vocab_size: int = 1024):
    """A byte-level BPE tokenizer with ChatML special tokens and chat template (transformers fast tokenizer)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(random.Random(seed)), trainer=trainer)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    hf.chat_template = CHAT_TEMPLATE
    return hf


def build_model(vocab_size: int, seed: int = 0, hidden: int = 32, layers: int = 2, heads: int = 4):
    """A randomly initialised Qwen2 causal LM (float32), head_dim = hidden / heads.

    vLLM's CPU attention needs head_dim >= 32 ("Unsupported CPU attention configuration"): models that
    vLLM serves here use e.g. hidden=64, heads=2 (`VLLM_TINY`)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=32768,  # long-trace tests; RoPE weights do not depend on it
        tie_word_embeddings=True,
        dtype="float32",
    )
    return Qwen2ForCausalLM(config)


def save_tiny_model(out_dir: str | Path, seed: int = 0, hidden: int = 32, layers: int = 2, heads: int = 4) -> Path:
    """Write tokenizer + model to `out_dir` (a HF folder). The tokenizer is the same for every seed."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    model = build_model(len(tokenizer), seed=seed, hidden=hidden, layers=layers, heads=heads)
    model.config.eos_token_id = tokenizer.eos_token_id
    model.config.pad_token_id = tokenizer.pad_token_id
    model.config.bos_token_id = None
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = None
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4, help="attention heads (vLLM on CPU needs hidden/heads >= 32)")
    args = parser.parse_args()
    print(save_tiny_model(args.out_dir, seed=args.seed, hidden=args.hidden, layers=args.layers, heads=args.heads))


if __name__ == "__main__":
    main()
