"""A Qwen3-style thinking chat template, written here for tests (no hub): it keeps `<think>…</think>` only in
assistant turns after the last user message, puts an empty think block in the final turn when there is
none, and with `enable_thinking=false` opens the generation prompt with an empty think block — the rules
of Qwen3's own template that make verl's per-turn tokenisation drop reasoning."""

THINKING_TEMPLATE = (
    "{%- set ns = namespace(last_query=messages|length - 1, seen_user=false) -%}"
    "{%- for m in messages[::-1] -%}"
    "{%- if not ns.seen_user and m['role'] == 'user' -%}"
    "{%- set ns.seen_user = true -%}{%- set ns.last_query = messages|length - 1 - loop.index0 -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'assistant' -%}"
    "{%- set content = m['content'] -%}{%- set reasoning = '' -%}"
    "{%- if '</think>' in content -%}"
    "{%- set reasoning = content.split('</think>')[0].split('<think>')[-1].strip('\\n') -%}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') -%}"
    "{%- endif -%}"
    "{%- if loop.index0 > ns.last_query and (loop.last or reasoning) -%}"
    "{{- '<|im_start|>assistant\\n<think>\\n' + reasoning + '\\n</think>\\n\\n' + content + '<|im_end|>\\n' -}}"
    "{%- else -%}"
    "{{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- else -%}"
    "{{- '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|im_start|>assistant\\n' -}}"
    "{%- if enable_thinking is defined and enable_thinking is false -%}{{- '<think>\\n\\n</think>\\n\\n' -}}{%- endif -%}"
    "{%- endif -%}"
)


def thinking_tokenizer(model_dir: str):
    """The tiny model's tokenizer with <think> and </think> as added tokens and the template above."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.add_tokens(["<think>", "</think>"])
    tokenizer.chat_template = THINKING_TEMPLATE
    return tokenizer
