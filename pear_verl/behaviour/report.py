"""`pear-verl report`: before training, see what PEAR's weights will look like for a student and data.

Why: when the teacher is far from the student, δ = log π_θ − log π_β is very negative, clipped weights
pile up at their bounds and the effective sample size collapses (docs/method.md). This
computes the student's log-probs on a scored dataset (one prefill per row) and reports the
distribution of δ and, per PEAR variant with the chosen knobs, the weights the first training step
would use: mean/max G, ESS, clip fractions. For long traces it breaks the chosen variant down by response
length and proposes knobs that keep the weights informative (`pear_verl.behaviour.preflight`). Writes `report.json`,
`report.md` and `delta_hist.png`; `--fail-on-degenerate` exits with status 3 when the weights collapsed.

Run: pear-verl report scored.parquet --model STUDENT --out reports/ [--variant token --gamma 0.999 --block-size 4]
         [--data max_length=8192] [--fail-on-degenerate]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from pear_verl.behaviour import preflight
from pear_verl.behaviour.hf_backend import HFScorer
from pear_verl.behaviour.sampling import SamplingDistribution, TokenSequence
from pear_verl.behaviour.score import DEFAULT_DATA_CONFIG, add_data_argument, data_settings
from pear_verl.common.io import atomic_path, write_json_atomic
from pear_verl.training.data import PearSFTDataset
from pear_verl.training.weights import WeightConfig, compact_log_weights

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def weight_stats(delta: np.ndarray, counts: np.ndarray, cfg: WeightConfig) -> dict:
    result = compact_log_weights(torch.from_numpy(delta), torch.from_numpy(counts), cfg)
    w = torch.exp(result.log_weights)
    n = w.numel()
    return {
        "weight_mean": float(w.mean()),
        "weight_max": float(w.max()),
        "ess": float(w.sum() ** 2 / (n * (w**2).sum())),
        "ratio_clip_frac": float(result.ratio_clipped.double().mean()),
        "weight_clip_frac": float(result.weight_clipped.double().mean()),
    }


def build_report(data: str, student: str, knobs: dict, data_config: dict, variant: str = "token",
                 max_batch_tokens: int = 16384, max_rows: Optional[int] = None) -> tuple[dict, np.ndarray]:
    """`max_rows`: a seeded sample of that many rows (verl's own max_samples draw), for a quick pre-flight."""
    from transformers import AutoTokenizer

    config = {**DEFAULT_DATA_CONFIG, **data_config, **({"shuffle": True, "seed": 0} if max_rows else {})}
    dataset = PearSFTDataset(data, AutoTokenizer.from_pretrained(student), config, max_samples=max_rows or -1)
    samples = [dataset.tokenize(i) for i in range(len(dataset))]
    student_lp = HFScorer(student, max_batch_tokens=max_batch_tokens).score(
        [TokenSequence(s["input_ids"], s["loss_mask"]) for s in samples], SamplingDistribution()
    )
    behavior = [dataset.behavior(i) for i in range(len(dataset))]
    delta = np.concatenate([lp.astype(np.float64) - b for lp, b in zip(student_lp, behavior)])
    counts = np.array([len(b) for b in behavior], dtype=np.int64)
    chosen = WeightConfig(variant=variant, **knobs)
    buckets = preflight.bucket_stats(delta, counts, chosen)
    report = {
        "data": str(data),
        "student": student,
        "rows": len(counts),
        "trainable_tokens": int(delta.size),
        "delta": {"mean": float(delta.mean()), "std": float(delta.std()), **{f"q{int(q * 100):02d}": float(np.quantile(delta, q)) for q in QUANTILES}},
        "knobs": knobs,
        "variants": {name: weight_stats(delta, counts, WeightConfig(variant=name, **knobs)) for name in ("sequence", "token", "block")},
        "variant": variant,
        "length_buckets": buckets,
        "targets": preflight.TARGETS,
        "degenerate": preflight.degenerate(buckets),
        "proposal": None if preflight.meets_targets(buckets) else preflight.propose(delta, counts, chosen),
    }
    return report, delta


def markdown(report: dict) -> str:
    d = report["delta"]
    lines = [
        f"# PEAR weight preview: {report['student']} on {report['data']}",
        f"{report['rows']} rows, {report['trainable_tokens']} trainable tokens; knobs {report['knobs']}",
        "",
        f"δ = log π_θ − log π_β: mean {d['mean']:.4f}, std {d['std']:.4f}, "
        + ", ".join(f"{k} {v:.3f}" for k, v in d.items() if k.startswith("q")),
        "",
        "| variant | mean G | max G | ESS | δ clipped | log G clipped |",
        "|---|---|---|---|---|---|",
    ]
    for name, v in report["variants"].items():
        lines.append(f"| {name} | {v['weight_mean']:.4g} | {v['weight_max']:.4g} | {v['ess']:.4f} | {v['ratio_clip_frac']:.3f} | {v['weight_clip_frac']:.3f} |")
    lines += ["", f"## {report['variant']} weights by response length (trainable tokens per row)", "",
              "| length | rows | tokens | ESS | at log-G lower clip | at log-G upper clip | δ below clip | δ above clip |",
              "|---|---|---|---|---|---|---|---|"]
    for b in report["length_buckets"]:
        lines.append(f"| {b['bucket']} | {b['rows']} | {b['tokens']} | {b['ess']:.3f} | {b['at_weight_lo']:.1%} | {b['at_weight_hi']:.1%} "
                     f"| {b['ratio_below']:.1%} | {b['ratio_above']:.1%} |")
    t = report["targets"]
    lines += ["", f"Targets: ESS >= {t['ess_min']} and at most {t['at_weight_bound_max']:.0%} of tokens at a log-G clip bound, in every "
              f"length bucket holding >= {preflight.MIN_SHARE:.0%} of the tokens."]
    proposal = report["proposal"]
    if proposal is None:
        lines.append("These knobs meet the targets on this data.")
    elif proposal["knobs"] is None:
        lines.append(f"No knobs of the grid ({proposal['tried']} tried) meet the targets: the behaviour policy is too far from the student "
                     "for these lengths; consider a closer teacher, shorter traces or plain SFT.")
    else:
        k = proposal["knobs"]
        lines.append(f"Proposed (nearest to yours that meets the targets, {proposal['tried']} tried on {proposal['rows_used']} rows): "
                     f"pear.gamma={k['gamma']} pear.ratio_clip=[{k['ratio_clip'][0]},{k['ratio_clip'][1]}]")
    for line in report["degenerate"]:
        lines.append(f"DEGENERATE: {line}")
    lines += ["", "ESS near 0 means a few tokens carry all the weight: pick a closer behaviour policy, a smaller γ, a block variant or tighter clips."]
    return "\n".join(lines) + "\n"


def save_histogram(delta: np.ndarray, report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(delta, bins=80, color="#4C72B0")
    clip = report["knobs"].get("ratio_clip")
    for bound in clip or ():
        ax.axvline(bound, color="#C44E52", linestyle="--", linewidth=1)
    ax.set_xlabel("δ = log π_θ − log π_β (per trainable token)")
    ax.set_ylabel("tokens")
    ax.set_title(f"token ESS {report['variants']['token']['ess']:.3f}, mean δ {report['delta']['mean']:.3f}")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def run_report(data: str, student: str, out_dir: str, knobs: dict, data_config: dict, variant: str = "token",
               max_rows: Optional[int] = None) -> dict:
    out = Path(out_dir)
    report, delta = build_report(data, student, knobs, data_config, variant, max_rows=max_rows)
    write_json_atomic(report, out / "report.json")
    with atomic_path(out / "report.md") as tmp:
        tmp.write_text(markdown(report))
    save_histogram(delta, report, out / "delta_hist.png")
    print(markdown(report))
    return report


def add_commands(sub: argparse._SubParsersAction) -> None:
    rep = sub.add_parser("report", help="preview PEAR weights (δ distribution, ESS) for a student on scored data")
    rep.add_argument("data", help="scored SFT parquet")
    rep.add_argument("--model", "--student", dest="model", required=True, help="the student: π_θ before training")
    rep.add_argument("--out", required=True, help="output folder")
    rep.add_argument("--variant", default="token", choices=("sequence", "token", "block"), help="variant broken down by length")
    rep.add_argument("--gamma", type=float, default=0.999, help="PEAR discount, in (0, 1]")
    rep.add_argument("--block-size", type=int, default=4, help="tokens per block (block variant)")
    rep.add_argument("--ratio-clip", type=float, nargs=2, default=(-0.08, 0.3), help="per-token log-ratio clip LO HI")
    rep.add_argument("--log-weight-clip", type=float, nargs=2, default=(-10.0, 5.0), help="log-weight clip LO HI")
    add_data_argument(rep)
    rep.add_argument("--fail-on-degenerate", action="store_true", help="exit with status 3 if the weights collapse in a length bucket")
    rep.add_argument("--max-rows", type=int, help="report on a seeded sample of this many rows (default: all)")

    def run(a):
        knobs = {"gamma": a.gamma, "block_size": a.block_size, "ratio_clip": tuple(a.ratio_clip), "log_weight_clip": tuple(a.log_weight_clip)}
        report = run_report(a.data, a.model, a.out, knobs, data_settings(a.data_settings), a.variant, a.max_rows)
        if a.fail_on_degenerate and report["degenerate"]:
            sys.exit(3)

    rep.set_defaults(func=run)
