"""scripts/gpu_check.py runs (on CPU here) and passes, so the check a lent GPU runs cannot rot unnoticed."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_check_passes_on_cpu(tmp_path):
    out = tmp_path / "gpu_check.json"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--device", "cpu", "--out", str(out), "--long-tokens", "200"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.loads(out.read_text())
    assert summary["failed"] == [] and summary["results"]["sampler_same_tokens"] is True
    assert set(summary["tolerances"]) <= set(summary["results"])
