"""Peak memory of loading behaviour log-probs: `PearSFTDataset` vs the column's float32 size.

Why: a PEAR SFT rank holds log π_β of every trainable token. As Python lists that is ~41 bytes a value
(13 GB per rank for 20K rows x 16K tokens); as one flat float32 array, 4. This builds a parquet of ROWS x
TOKENS trainable tokens (sampled token ids, as `pear-verl generate` writes them, with a tiny tokenizer), then
loads it in fresh processes and prints the extra peak RSS the behaviour column costs — the dataset with
the column minus the dataset without it — against the column's float32 size, and against a baseline run at
the same time: the same column read as Python lists (what `PearSFTDataset` did before).

Run: python bench/load_memory.py [--rows 2000 --tokens 8192]   (about a minute on 2 CPU cores)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_data(folder: Path, rows: int, tokens: int) -> dict:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pear_verl.demo.tiny import build_tokenizer
    from pear_verl.training.data import PearSFTDataset, tokenization_fingerprint

    tok = build_tokenizer()
    tok.save_pretrained(folder / "tok")
    rng = np.random.default_rng(0)
    ids = rng.integers(3, len(tok), size=(rows, tokens))  # 0-2: special tokens, skipped when decoding
    frame = pd.DataFrame({
        "messages": [[{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": tok.decode(row.tolist())}] for i, row in enumerate(ids)],
        "response_ids": list(ids.astype(np.int32)),
    })
    raw = folder / "raw.parquet"
    frame.to_parquet(raw, index=False)
    config = {"pad_mode": "no_padding", "max_length": tokens + 64, "behavior_log_probs_key": None}
    dataset = PearSFTDataset(str(raw), tok, config, check_rows=False)
    fingerprints = [tokenization_fingerprint(s["input_ids"], s["loss_mask"]) for s in map(dataset.tokenize, range(rows))]
    table = pq.read_table(raw)
    table = table.append_column("behavior_log_probs", pa.array(list(-rng.random((rows, tokens), dtype=np.float32)), pa.list_(pa.float32())))
    table = table.append_column("behavior_fingerprint", pa.array(fingerprints))
    pq.write_table(table, folder / "scored.parquet")
    return {"max_length": tokens + 64}


class PeakRSS:
    """Highest resident set size seen while the block runs, above the RSS at its start (polled every 2 ms)."""

    def __enter__(self):
        import psutil

        self.process, self.stop = psutil.Process(), threading.Event()
        self.start = self.peak = self.process.memory_info().rss
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()
        return self

    def _poll(self):
        while not self.stop.wait(0.002):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def mib(self) -> float:
        return (self.peak - self.start) / 2**20


def child(mode: str, folder: Path, max_length: int) -> None:
    """Load in this fresh process (imports done first); print the peak RSS (MiB) of the load."""
    import numpy as np
    import pandas as pd
    from transformers import AutoTokenizer

    from pear_verl.training.data import PearSFTDataset

    tok = AutoTokenizer.from_pretrained(folder / "tok")
    with PeakRSS() as rss:
        if mode == "lists":  # the old way: the column as Python lists, then one array per row
            column = pd.read_parquet(folder / "scored.parquet", columns=["behavior_log_probs"])["behavior_log_probs"].tolist()
            kept = [np.asarray(v, dtype=np.float32) for v in map(list, column)]
        else:
            key = "behavior_log_probs" if mode == "with" else None
            kept = PearSFTDataset(str(folder / "scored.parquet"), tok, {"pad_mode": "no_padding", "max_length": max_length, "behavior_log_probs_key": key})
    assert len(kept) > 0
    print(json.dumps({"mode": mode, "peak_mib": rss.mib}))


def measure(mode: str, folder: Path, max_length: int) -> float:
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--folder", str(folder), "--max-length", str(max_length)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--tokens", type=int, default=8192)
    parser.add_argument("--child", choices=("with", "without", "lists"))
    parser.add_argument("--folder")
    parser.add_argument("--max-length", type=int)
    args = parser.parse_args()
    if args.child:
        return child(args.child, Path(args.folder), args.max_length)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        max_length = make_data(folder, args.rows, args.tokens)["max_length"]
        column_mib = args.rows * args.tokens * 4 / 2**20
        with_col, without_col, lists = (measure(m, folder, max_length) for m in ("with", "without", "lists"))
    extra = with_col - without_col
    print(f"{args.rows} rows x {args.tokens} trainable tokens; behaviour column as float32: {column_mib:.1f} MiB")
    print(f"PearSFTDataset peak RSS: {with_col:.1f} MiB with the column, {without_col:.1f} MiB without: the column costs {extra:.1f} MiB "
          f"= {extra / column_mib:.2f}x its float32 size")
    print(f"baseline, the column read as Python lists: {lists:.1f} MiB = {lists / column_mib:.2f}x its float32 size "
          f"({lists / max(extra, 1e-9):.1f}x the dataset's)")


if __name__ == "__main__":
    main()
