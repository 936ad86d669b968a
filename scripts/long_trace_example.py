"""The long-trace pre-flight example of docs/long_traces.md: tiny local models, thousands of tokens per response.

A tiny untrained teacher samples 8 responses for each of 8 countdown prompts (up to 7,000 tokens: an untrained
model rarely ends a turn), `pear-verl generate` keeps them all with their sampled ids and rescored behaviour
log-probs, and `pear-verl report` previews PEAR's token weights for a tiny untrained student by response length.
Nothing is downloaded; about 20 minutes on a 2-core CPU (the sampling).

Run: python scripts/long_trace_example.py runs/long_trace_example   (the report: OUT/report/report.md)
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pear_verl.behaviour.generate import GenerationSettings, generate  # noqa: E402
from pear_verl.behaviour.report import run_report  # noqa: E402
from pear_verl.demo.tiny import save_tiny_model  # noqa: E402
from pear_verl.evaluation.rl_data import make_game_data  # noqa: E402

PAPER_KNOBS = {"gamma": 0.999, "block_size": 4, "ratio_clip": (-0.08, 0.3), "log_weight_clip": (-10.0, 5.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    root = Path(parser.parse_args().out)
    teacher, student = save_tiny_model(root / "teacher", seed=1), save_tiny_model(root / "student", seed=0)
    make_game_data("countdown", 8, 1, 0, {"n_numbers": 3}, root / "data")
    settings = GenerationSettings(str(teacher), n=8, max_new_tokens=7000, keep="all", seed=0)
    sft = generate(str(root / "data" / "train.parquet"), root / "sft.parquet", settings, chunk_prompts=8, data_config={"max_length": 8192})
    run_report(str(sft), str(student), str(root / "report"), PAPER_KNOBS, {"max_length": 8192})


if __name__ == "__main__":
    main()
