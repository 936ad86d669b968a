"""Where a response's final answer is: after the thinking, in its last group of boxes, or on a final-answer line.

Why: a reward must read the answer the model committed to, the way a grader would — not a guess boxed in
the middle of an unfinished thought, not half of an answer given in two boxes, not a box from the working
when a "final answer is ..." statement closes the response — and it must not let a response that lists
candidates collect the reward.

Rules, in order (each linear in the response length, every span bounded):
1. Thinking (`after_thinking`): the answer is read after the last closing tag of a think block, in the tag
   styles of common thinking models — `<think>…</think>` (DeepSeek-R1, Qwen3, QwQ, Phi-4-reasoning),
   `<thinking>…</thinking>`, `<|begin_of_thought|>…<|end_of_thought|>` (Sky-T1, Bespoke-Stratos,
   OpenThinker), `[THINK]…[/THINK]` (Magistral). A block that is opened and never closed (a response cut
   at the length limit) has no answer. Modes: "auto" (default: as above; a response without tags is read
   whole), "required" (the chat template opens the block in the prompt, as DeepSeek-R1's does: a response
   without a closing tag has no answer), "off" (models that do not think: tags are ignored).
2. Boxes (`boxed_content`): the last balanced `\\boxed{}`/`\\fbox{}`, joined (", ") with the boxes right
   before it when only a separator stands between them: connectors ("and", "or", commas, semicolons,
   `\\quad`, `\\text{ and }`), math-mode switches with a connector (`\\) and \\(`, `$, $`), part labels
   ("for part (a) and"), a restated variable (`y_2 =`) and at most MAX_GAP_WORDS other words ("\\boxed{1}
   papers and \\boxed{2} bins"). A sentence end, a blank line, maths or more words between two boxes ends
   the group: boxes in earlier reasoning are not part of the final answer. A group of more than MAX_BOXES
   boxes is no answer. Listing candidates for a single-valued answer therefore gives a list (scored 0
   against a single gold) or only the last candidate, never the gold by luck.
3. Final-answer statements (`final_statement`): "final answer is X" / "Final Answer: X" after the last box
   (or without any box) is the final answer; the last one counts; X ends at the sentence's end. After a box,
   X must hold maths (a digit or a LaTeX command): "Final answer: see above" leaves the box in charge.
4. Without a box: the fallbacks asked for — "answer_line" ("Answer: X", "the answer is X", on the last line
   that has one), "formula" (the response is one formula, `$$x = 3$$`), "last_number" (GSM8K-style).

Run: `python -m reward_fns.extract "<response>"` prints what is read.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Optional

MAX_ANSWER_CHARS = 1000
MAX_BOX_TRIES = 5  # a final unbalanced box falls back to up to 4 earlier ones
MAX_BOXES = 16  # boxes of one final answer; a longer group is a list of candidates, not an answer
MAX_GAP_CHARS = 80  # a separator between two boxes of one answer is short
MAX_GAP_WORDS = 3  # words in a separator besides connectors and labels ("papers and")
MAX_SCAN_CHARS = 20_000  # fallbacks look at the tail only: final answers sit at the end
THINK_TAGS = (("<think>", "</think>"), ("<thinking>", "</thinking>"), ("<|begin_of_thought|>", "<|end_of_thought|>"), ("[THINK]", "[/THINK]"))
THINKING_MODES = ("auto", "required", "off")
FALLBACKS = ("answer_line", "formula", "last_number")
DEFAULT_FALLBACKS = ("answer_line", "formula")

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_FINAL = re.compile(r"final\s+answer\s*(?:is\b|:)", re.IGNORECASE)
_ANSWER_LINE = re.compile(r"\b(?:final\s+answer|answer)\s*(?:is\b|:|=)", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_FORMULA = re.compile(r"\s*(?:\$\$(?P<a>[^$]+)\$\$|\$(?P<b>[^$]+)\$|\\\[(?P<c>.+?)\\\]|\\\((?P<d>.+?)\\\))\s*\.?\s*", re.DOTALL)


@dataclass(frozen=True)
class Extraction:
    answer: Optional[str]
    source: str  # "boxed", "final_statement", a fallback name, or "none"
    error: str = ""  # why there is no answer, when the response says why (unfinished thinking, too many boxes)
    boxed: bool = False  # the final part has a balanced box (the format reward), even if a statement after it wins


def after_thinking(text: str, mode: str = "auto") -> tuple[Optional[str], str]:
    """(the part of `text` after its thinking, "") or (None, why there is none); see rule 1."""
    if mode not in THINKING_MODES:
        raise ValueError(f"unknown thinking mode {mode!r}; choose from {THINKING_MODES}")
    if mode == "off":
        return text, ""
    end = -1
    for _, closing in THINK_TAGS:
        at = text.rfind(closing)
        if at >= 0:
            end = max(end, at + len(closing))
    rest = text[max(end, 0) :]
    unclosed = next((opening for opening, _ in THINK_TAGS if opening in rest), None)
    if unclosed is not None:
        return None, f"unfinished thinking: {unclosed} without its closing tag"
    if end < 0 and mode == "required":
        return None, "unfinished thinking: no closing tag (thinking='required')"
    return rest, ""


def _box_at(text: str, start: int) -> Optional[tuple[str, int]]:
    """(content, end) of the box whose argument starts at `start`: `{...}` with balanced braces, or a
    bare token (`\\boxed 5`); None if unbalanced or longer than MAX_ANSWER_CHARS."""
    if start < len(text) and text[start] == "{":
        depth = 0
        for i in range(start, min(len(text), start + MAX_ANSWER_CHARS + 2)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                return text[start + 1 : i], i + 1
        return None
    token = re.match(r"[^\s$]+", text[start : start + MAX_ANSWER_CHARS])
    return (token.group(0), start + token.end()) if token else None


_PROSE_IS = re.compile(r"[A-Za-z][^=]*?\bis\s+(?!\s)(.+)$")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n\s*\n")
_MATH_SWITCH = re.compile(r"\$|\\[()\[\]]")
_TEXT_MACRO = re.compile(r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mbox)\s*\{([^{}]*)\}")
_SPACING = re.compile(r"\\(?:qquad|quad|[,;:! ])|\\\\|\\[()\[\]]|[$~&]")
_LABEL = re.compile(r"\((?:[a-h]|i{1,3}|iv|vi{0,3})\)|\b[a-h]\)")
_RESTATED = re.compile(r"(?:\([A-Za-z, ]{1,15}\)|[A-Za-z]\w{0,5}(?:_\{?\w{1,4}\}?)?(?:\([A-Za-z]\))?)\s*=\s*$")
_CONNECTORS = {"and", "or", "for", "part", "parts", "case", "cases", "respectively"}


def _separates(gap: str) -> bool:
    """Whether `gap`, the text between two boxes, only separates parts of one answer (see rule 2)."""
    if len(gap) > MAX_GAP_CHARS or _SENTENCE_END.search(gap):
        return False
    text = _LABEL.sub(" ", _SPACING.sub(" ", _TEXT_MACRO.sub(r" \1 ", gap)))
    text = _RESTATED.sub(" ", text.strip())
    if re.search(r"[^\sA-Za-z,;:]", text):  # maths between the boxes (\boxed{1} + \boxed{2} = 3): not a list
        return False
    words = re.findall(r"[A-Za-z]+", text)
    connected = bool(re.search(r"[,;]|\\q?quad", gap)) or any(w.lower() in ("and", "or") for w in words)
    if not connected and (words or _MATH_SWITCH.search(gap)):
        return False  # "\boxed{1} y \boxed{2}", "$$\boxed{20}$$ \boxed{143}": two claims, no list
    return sum(w.lower() not in _CONNECTORS for w in words) <= MAX_GAP_WORDS


def boxed_group(text: str) -> Optional[tuple[list[str], int]]:
    """(contents of the final answer's boxes, end of the last box); None without a balanced box. More than
    MAX_BOXES joined boxes give an empty list (a list of candidates, not an answer)."""
    matches = list(_BOXED.finditer(text))  # linear; only the last MAX_BOXES + MAX_BOX_TRIES are read
    boxes = [(m.start(), _box_at(text, m.end())) for m in matches[-(MAX_BOXES + MAX_BOX_TRIES) :]]
    tries = 0
    while boxes and boxes[-1][1] is None and tries < MAX_BOX_TRIES - 1:  # unbalanced: an earlier box
        boxes.pop()
        tries += 1
    if not boxes or boxes[-1][1] is None:
        return None
    start, (content, end) = boxes.pop()
    group = [content]
    for prev_start, prev in reversed(boxes):
        if prev is None or start - prev[1] > MAX_GAP_CHARS or not _separates(text[prev[1] : start]):
            break
        if len(group) == MAX_BOXES:
            return [], end
        group.insert(0, prev[0])
        start = prev_start
    return group, end  # the window holds MAX_BOXES + 1 boxes after any unbalanced ones: a 17th is always seen


def boxed_content(text: str) -> Optional[str]:
    """The final answer given in boxes, joined with ", " (rule 2); None without a balanced box."""
    found = boxed_group(text)
    return ", ".join(found[0]) if found and found[0] else None


_FULL_STOP = re.compile(r"(?<![.\\])\.$")  # one final full stop; an ellipsis ("1, 2, 3, ...") is part of the answer
_DELIMITERS = re.compile(r"\$|\\[()\[\]]")  # math-mode switches inside an answer ("12 $ and $ 13")


def clean(answer: str) -> str:
    """Strip markdown bold, quotes, math delimiters (`$`, `\\(`, `\\[`; an escaped currency `\\$` too), a final
    full stop, `\\!` and `{,}` in numbers (11,\\!111, 14{,}916), in any nesting ("**$42$**.")."""
    answer = re.sub(r",\\!\s*", ",", _BOLD.sub(r"\1", answer)).replace("{,}", ",").replace("\\!", "")
    answer = _DELIMITERS.sub(" ", answer.replace("\\$", ""))
    previous = None
    while answer != previous:
        previous, answer = answer, _FULL_STOP.sub("", answer.strip().strip("*\"").strip()).rstrip(",")
    return answer


def _statement(text: str) -> str:
    """The answer a statement gives: `text` up to its sentence's end (a full stop outside maths, a line end)."""
    text = text[:MAX_ANSWER_CHARS].lstrip(" \t*:")
    in_math, i = False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and text[i + 1 : i + 2] == "$":
            i += 2
            continue
        if c == "$":
            in_math = not in_math
        elif c == "\n" or (c == "." and not in_math and text[i + 1 : i + 2] in ("", " ", "\t", "\n")):
            break
        i += 1
    answer = clean(text[:i])
    prose = _PROSE_IS.match(answer)  # "Final Answer: The largest $n$ is 34." -> 34
    return clean(prose.group(1)) if prose else answer


def final_statement(text: str) -> Optional[str]:
    """The answer of the last "final answer is X" / "Final Answer: X" in `text`, or None."""
    last = None
    for last in _FINAL.finditer(text[-MAX_SCAN_CHARS:]):
        pass
    if last is None:
        return None
    answer = _statement(text[-MAX_SCAN_CHARS:][last.end() :])
    return answer or None


def _fallback(tail: str, name: str) -> Optional[str]:
    if name == "answer_line":
        for line in reversed(tail.splitlines()):
            line = _BOLD.sub(r"\1", line)
            last = None
            for last in _ANSWER_LINE.finditer(line):
                pass
            if last is not None and (answer := _statement(line[last.end() :])):
                return answer
        return None
    if name == "formula":
        whole = _FORMULA.fullmatch(tail)
        return clean(next(g for g in whole.groups() if g is not None)) if whole else None
    if name == "last_number":
        numbers = _NUMBER.findall(tail)
        return numbers[-1].replace(",", "") if numbers else None
    raise ValueError(f"unknown answer fallback {name!r}; choose from {FALLBACKS}")


def extract_answer(text: str, fallbacks: tuple[str, ...] = DEFAULT_FALLBACKS, thinking: str = "auto") -> Extraction:
    """The final answer of a response (rules 1-4)."""
    final, error = after_thinking(text, thinking)
    if final is None:
        return Extraction(None, "none", error)
    found = boxed_group(final)
    if found is not None:
        boxes, end = found
        stated = final_statement(final[end:])
        if stated and re.search(r"[\d\\]", stated):  # maths, not "Final answer: see above"
            return Extraction(stated, "final_statement", boxed=True)
        if not boxes:
            return Extraction(None, "none", f"more than {MAX_BOXES} boxes in the final answer", boxed=True)
        joined = clean(", ".join(boxes))
        if joined:
            return Extraction(joined, "boxed", boxed=True)
    stated = final_statement(final)
    if stated:
        return Extraction(stated, "final_statement")
    tail = final[-MAX_SCAN_CHARS:]
    for name in fallbacks:
        answer = _fallback(tail, name)
        if answer:
            return Extraction(answer[:MAX_ANSWER_CHARS], name)
    return Extraction(None, "none")


if __name__ == "__main__":
    print(extract_answer(sys.argv[1]))
