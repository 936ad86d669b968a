"""`pear-verl compare`: eval results side by side, several runs (seeds) per arm, and paired verdicts.

Why: one run per arm is noise, so an arm is several `pear-verl eval` result folders, one per seed
(`sft=runs/sft_s0/eval_rl sft=runs/sft_s1/eval_rl ...`, or a glob `sft='runs/sft_s*/eval_rl'`). The i-th run
of every arm is paired with the i-th run of the control (the first arm, or `--control`): name the runs so
that they sort the same way in every arm (numbers in names sort as numbers). Every other arm gets, per
benchmark and pass@k, the verdict the built-in demo prints (`pear_verl.evaluation.verdict`): the mean paired
difference with a 95% confidence interval over seeds and test puzzles, and the seeds a difference of its
size would need.

Run:
    pear-verl compare sft='runs/qwen3_sft_s*/eval_rl' pear='runs/qwen3_pear_s*/eval_rl' --out results/compare
Outputs: compare.md (table + verdict lines), compare.json (the statistics), compare.png (mean ± sd bars).
"""

from __future__ import annotations

import argparse
import glob
import json
import re
from pathlib import Path

import numpy as np

from pear_verl.common.io import atomic_path, write_json_atomic
from pear_verl.evaluation.verdict import verdict_from_results, verdict_line


def _natural(path: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def parse_arms(pairs: list[str]) -> dict[str, list[str]]:
    """name=folder pairs (a folder may be a glob) -> {arm: [folders in order]}; a folder given twice is refused."""
    arms: dict[str, list[str]] = {}
    seen: dict[Path, str] = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"expected name=results_folder, got {pair!r}")
        paths = sorted(glob.glob(path), key=_natural) if glob.has_magic(path) else [path]
        if not paths:
            raise ValueError(f"{name}: no results folder matches {path!r}")
        for p in paths:
            key = Path(p).resolve()
            if key in seen:
                raise ValueError(f"{p} is given twice ({seen[key]} and {name}=): each run counts once")
            seen[key] = f"{name}={p}"
            arms.setdefault(name, []).append(p)
    return arms


def load_benchmarks(path: str) -> dict[str, dict]:
    """The benchmarks of one `pear-verl eval` output (its folder or its results.json)."""
    file = Path(path) if Path(path).name == "results.json" else Path(path) / "results.json"
    if not file.is_file():
        raise FileNotFoundError(f"not found: {file} (give a `pear-verl eval --out` folder)")
    try:
        return json.loads(file.read_text())["benchmarks"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"{file}: not a pear-verl eval results file ({err})") from None


def _cell(values: list[float]) -> str:
    if len(values) == 1:
        return f"{100 * values[0]:.1f}"
    return f"{100 * np.mean(values):.1f} ± {100 * np.std(values, ddof=1):.1f} ({len(values)})"


def compare(arms: dict[str, list[str]], out_dir: str, control: str | None = None) -> str:
    """compare.md / .json / .png for the arms' eval folders; returns the markdown."""
    control = control or next(iter(arms))
    if control not in arms:
        raise ValueError(f"--control {control!r} is not one of the arms {list(arms)}")
    counts = {name: len(paths) for name, paths in arms.items()}
    if len(set(counts.values())) > 1:
        raise ValueError(f"arms need equally many runs (one per seed, paired in order), got {counts}")
    loaded = {name: [load_benchmarks(p) for p in paths] for name, paths in arms.items()}
    runs = [r for name in loaded for r in loaded[name]]
    benchmarks = sorted(set.intersection(*(set(r) for r in runs)))
    if not benchmarks:
        raise ValueError("the runs share no benchmark")
    found = [{k for b in benchmarks for k in r[b] if k.startswith("pass@")} for r in runs]
    metrics = sorted(set.intersection(*found), key=lambda k: int(k[5:]))
    left_out = sorted(set().union(*(set(r) for r in runs)) - set(benchmarks)) + sorted(set().union(*found) - set(metrics))
    seeds = next(iter(counts.values()))
    lines = [f"# pass@k (%){' — mean ± sd (runs)' if seeds > 1 else ''}", "",
             *([f"Not in every run, left out: {', '.join(left_out)}", ""] if left_out else []),
             "| benchmark | metric | " + " | ".join(loaded) + " |", "|---|---|" + "---|" * len(loaded)]
    for bench in benchmarks:
        for metric in metrics:
            lines.append(f"| {bench} | {metric} | " + " | ".join(_cell([r[bench][metric] for r in loaded[name]]) for name in loaded) + " |")
    verdicts, texts = [], []
    for name in loaded:
        for bench in benchmarks if name != control else []:
            for metric in metrics:
                v = verdict_from_results([r[bench] for r in loaded[name]], [r[bench] for r in loaded[control]], metric)
                texts.append(verdict_line(f"{name} − {control} {bench} {metric}", v))
                verdicts.append({"treatment": name, "control": control, "benchmark": bench, "metric": metric, **v, "line": texts[-1]})
    lines += ["", f"## Paired differences (run i of each arm = seed i; {seeds} seed(s))", "", *[f"- {t}" for t in texts]]
    table = "\n".join(lines) + "\n"
    out = Path(out_dir)
    with atomic_path(out / "compare.md") as tmp:
        tmp.write_text(table)
    write_json_atomic({"arms": arms, "control": control, "verdicts": verdicts}, out / "compare.json")
    _plot(out / "compare.png", loaded, benchmarks, metrics)
    print(table)
    return table


def _plot(path: Path, loaded: dict[str, list[dict]], benchmarks: list[str], metrics: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [(b, m) for b in benchmarks for m in metrics]
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(groups)), 4))
    width = 0.8 / len(loaded)
    for i, (name, runs) in enumerate(loaded.items()):
        values = np.array([[100 * r[b][m] for b, m in groups] for r in runs])
        spread = values.std(0, ddof=1) if len(runs) > 1 else None
        ax.bar(np.arange(len(groups)) + i * width, values.mean(0), width, yerr=spread, capsize=3, label=f"{name} ({len(runs)})")
    ax.set_xticks(np.arange(len(groups)) + width * (len(loaded) - 1) / 2, [f"{b}\n{m}" for b, m in groups], fontsize=8)
    ax.set_ylabel("% (mean ± sd over runs)")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def add_commands(sub: argparse._SubParsersAction) -> None:
    cmp = sub.add_parser("compare", help="pass@k of several eval result folders (several per arm: seeds) and paired verdicts")
    cmp.add_argument("runs", nargs="+", help="name=results_folder (repeat a name for its other seeds, paired in order; a quoted glob works)")
    cmp.add_argument("--control", help="the arm every other arm is compared with (default: the first named)")
    cmp.add_argument("--out", required=True, help="output folder: compare.md, compare.json, compare.png")
    cmp.set_defaults(func=lambda a: compare(parse_arms(a.runs), a.out, a.control))
