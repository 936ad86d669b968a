"""verl's usual configuration names the reward by file, `reward.custom_reward_function.path=.../reward_fns/__init__.py`.
Loaded that way from a copy that is not installed, through verl's own `get_custom_reward_fn`, the reward must
work, sandbox included: the sandbox's zygote is a fresh interpreter, which once could not import the package."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import json, sys
from omegaconf import OmegaConf
from verl.trainer.ppo.reward import get_custom_reward_fn

config = OmegaConf.create({"reward": {"custom_reward_function": {"path": PATH, "name": "compute_score", "reward_kwargs": {}}}})
fn = get_custom_reward_fn(config)
result = fn(data_source="math", solution_str="so $\\\\boxed{\\\\frac{\\\\sqrt{2}}{2}}$", ground_truth="\\\\frac{1}{\\\\sqrt{2}}")
import reward_fns
from reward_fns.sandbox import BoundedPool
where = BoundedPool("reward_fns.probe:where").call(timeout_s=60)
print(json.dumps({"acc": result["acc"], "error": result["error"], "package": reward_fns.__file__, "worker": where.value, "worker_error": where.error}))
"""


def test_reward_loaded_by_file_path_from_an_uninstalled_copy(tmp_path):
    copy = tmp_path / "elsewhere" / "reward_fns"
    shutil.copytree(ROOT / "reward_fns", copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "probe.py").write_text("def where():\n    return __file__\n")  # only this copy has it
    run = tmp_path / "run"
    run.mkdir()
    proc = subprocess.run([sys.executable, "-c", f"PATH = {str(copy / '__init__.py')!r}\n" + SCRIPT], cwd=run,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["acc"] == 1.0, out  # a check that needs the sandbox (not a fast path)
    assert out["package"].startswith(str(copy)), out  # the copy named by the path, not an installed one
    assert out["worker"] and out["worker"].startswith(str(copy)), out  # and so do the sandbox's workers
