"""recipes/lib.sh: stages are selected by STAGES, reused only with the same call, and refuse missing checkpoints."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def bash(script: str, tmp_path: Path, **env) -> subprocess.CompletedProcess:
    full = f'source "{ROOT}/recipes/lib.sh"\n{script}\n'
    return subprocess.run(["bash", "-c", full], cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env})


def write(value: str) -> str:
    return f'stage demo out.txt bash -c "echo {value} > out.txt"'


def test_a_finished_stage_is_reused_only_with_the_same_call(tmp_path):
    assert bash(write(1), tmp_path).returncode == 0 and (tmp_path / "out.txt").read_text() == "1\n"
    again = bash(write(1), tmp_path)
    assert again.returncode == 0 and "[skip] demo" in again.stderr
    other = bash(write(2), tmp_path)
    assert other.returncode == 2 and "made by another call" in other.stderr and "echo 2" in other.stderr
    assert (tmp_path / "out.txt").read_text() == "1\n"  # the old output is neither reused silently nor overwritten


def test_stages_select_what_runs(tmp_path):
    proc = bash(write(1) + "\nstage other x.txt touch x.txt", tmp_path, STAGES="other")
    assert proc.returncode == 0 and "[not in STAGES] demo" in proc.stderr
    assert not (tmp_path / "out.txt").exists() and (tmp_path / "x.txt").exists()


def test_a_stage_needing_a_missing_checkpoint_stops(tmp_path):
    proc = bash('stage eval/rl res.json echo "$(latest sft_dir)/huggingface"', tmp_path)
    assert proc.returncode == 2 and "needs sft_dir, which has no checkpoint yet" in proc.stderr
