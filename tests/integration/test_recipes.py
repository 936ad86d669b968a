"""Recipes in DRY_RUN mode: every verl call is composed by hydra against the installed verl, every
pear-verl call's arguments are parsed (all in one process, `pear_verl.recipe.check`); bad keys, legacy
keys, missing inputs and command-line arguments fail. (`test_recipe_cpu.py` runs the recipes for real.)"""

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def dry_run(recipe: str, tmp_path: Path, *args: str, **env) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "DRY_RUN": "1", "WORK": str(tmp_path / "work"), "DATA": str(tmp_path / "data"), **env}
    full_env["PATH"] = f"{Path(os.sys.executable).parent}:{full_env['PATH']}"  # python / pear-verl of this venv
    return subprocess.run(["bash", str(ROOT / "recipes" / recipe), *args], cwd=tmp_path, env=full_env, capture_output=True, text=True, timeout=600)


def dry_run_commands(recipe: str, tmp_path: Path) -> list[str]:
    proc = dry_run(recipe, tmp_path, WORK="W", DATA="D")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return [line for line in proc.stderr.splitlines() if "[dry-run]" in line]


def test_pear_recipe_composes_and_the_baseline_differs_only_in_the_objective(tmp_path):
    pear, sft = dry_run_commands("qwen3_pear.sh", tmp_path), dry_run_commands("qwen3_sft.sh", tmp_path)
    stages = [line.split("[dry-run] ")[1].split(":")[0] for line in pear]
    assert stages == ["data", "behavior", "preflight", "sft", "grpo", "merge", "eval/sft", "eval/rl"]
    assert [s for s in stages if s != "preflight"] == [line.split("[dry-run] ")[1].split(":")[0] for line in sft]  # PEAR's pre-flight only
    pear = [line for line in pear if "[dry-run] preflight:" not in line]
    text = "\n".join(pear)
    assert "pear.enable=true" in text and "reward.custom_reward_function.path=pkg://reward_fns" in text
    assert "actor_rollout_ref.rollout.name=vllm" in text and "algorithm.adv_estimator=grpo" in text
    assert not (tmp_path / "W").exists() and not (tmp_path / "D").exists()  # nothing ran
    diff = [(a, b) for a, b in zip(" ".join(pear).split(), " ".join(sft).split()) if a != b]
    assert diff == [("pear.enable=true", "pear.enable=false")]


def test_cpu_device_composes_the_cpu_grpo_launcher(tmp_path):
    proc = dry_run("qwen3_pear.sh", tmp_path, DEVICE="cpu")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "python -m pear_verl.cpu_runtime.grpo" in proc.stderr and "trainer.device=cpu" in proc.stderr
    assert "--enforce-eager" in proc.stderr


def test_command_line_arguments_are_refused_not_dropped(tmp_path):
    proc = dry_run("qwen3_pear.sh", tmp_path, "trainer.total_epochs=2")
    assert proc.returncode == 2
    assert "unexpected argument(s): trainer.total_epochs=2" in proc.stderr and "GRPO_EXTRA" in proc.stderr
    assert "[dry-run]" not in proc.stderr  # refused before any stage


def test_every_bad_call_is_reported_at_once(tmp_path):
    proc = dry_run("qwen3_pear.sh", tmp_path, GRPO_EXTRA="actor_rollout_ref.rollout.nme=vllm", SFT_EXTRA="pear.varaint=block",
                   GEN_KEEP="sometimes")
    assert proc.returncode != 0
    for stage, key in (("sft", "varaint"), ("grpo", "nme"), ("behavior", "sometimes")):
        assert any(f"stage {stage}:" in line and key in line for line in proc.stderr.splitlines()), (stage, proc.stderr[-3000:])


def test_game_recipe_composes(tmp_path):
    proc = dry_run("countdown_pear.sh", tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Qwen/Qwen3-0.6B-Base" in proc.stderr


@pytest.mark.parametrize(
    "env,message",
    [
        ({"GRPO_EXTRA": "actor_rollout_ref.rollout.nme=vllm"}, "nme"),
        ({"GRPO_EXTRA": "custom_reward_function.path=pkg://reward_fns"}, "use reward.custom_reward_function"),
        ({"SFT_EXTRA": "pear.varaint=block"}, "varaint"),
        ({"TASK": "math", "MATH_TRAIN": "/nonexistent.jsonl", "MATH_TEST": "/nonexistent.jsonl"}, "does not exist"),
    ],
)
def test_bad_settings_fail(tmp_path, env, message):
    proc = dry_run("qwen3_pear.sh", tmp_path, **env)
    assert proc.returncode != 0
    assert message in proc.stderr


def test_reasoning_gym_task_composes_with_a_slash_in_its_name(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("WORK", "DATA")}
    env.update(DRY_RUN="1", TASK="rg/puzzle24", PATH=f"{Path(os.sys.executable).parent}:{env['PATH']}")
    proc = subprocess.run(["bash", str(ROOT / "recipes" / "qwen3_pear.sh")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "--game rg/puzzle24" in proc.stderr
    assert "runs/data_rg_puzzle24/test.parquet" in proc.stderr  # one folder, not runs/data_rg/puzzle24
    assert "rg/puzzle24=runs/data_rg_puzzle24/test.parquet" in proc.stderr


def test_long_teacher_responses_need_consistent_sft_sizes(tmp_path):
    """Issue 18: a 16K-token teacher response does not fit SFT_MAX_LENGTH=8192 (the default); refused
    before any stage, naming the variables; accepted once SFT's sizes hold it."""
    proc = dry_run("qwen3_pear.sh", tmp_path, GEN_MAX_NEW_TOKENS="16384")
    assert proc.returncode != 0
    assert "MAX_PROMPT_LENGTH + GEN_MAX_NEW_TOKENS = 1024 + 16384 = 17408 > SFT_MAX_LENGTH=8192" in proc.stderr
    proc = dry_run("qwen3_pear.sh", tmp_path, GEN_MAX_NEW_TOKENS="16384", SFT_MAX_LENGTH="20480", SFT_TOKENS_PER_GPU="20480")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "--data max_length=20480" in proc.stderr and "data.max_length=20480" in proc.stderr  # stages 2 and 3 agree


def test_every_bad_value_is_reported_in_one_pass(tmp_path):
    """Issue 19: each of these was accepted by DRY_RUN; now all are reported together, each named."""
    bad = {"VARIANT": "foo", "GAMMA": "2", "SFT_OBJECTIVE": "foo", "GEN_TEMPERATURE": "-1", "GEN_N": "0", "STUDENT": "/nowhere",
           "TASK": "nosuchgame", "SFT_EPOCH": "2", "DUMP_ROLLOUTS": "yes", "DEVICE": "gpu", "SFT_EXTRA": "pear.enable=no",
           "EVAL_K": "1 128"}
    proc = dry_run("qwen3_pear.sh", tmp_path, **bad)
    assert proc.returncode != 0
    for expected in ("VARIANT='foo'", "GAMMA=2.0", "SFT_OBJECTIVE='foo'", "GEN_TEMPERATURE=-1.0", "GEN_N=0", "STUDENT=/nowhere: not found",
                     "unknown game 'nosuchgame'", "SFT_EPOCH: not a setting of this recipe; did you mean SFT_EPOCHS?",
                     "DUMP_ROLLOUTS='yes'", "DEVICE='gpu'", "stage sft: pear.enable='no'", "EVAL_K: pass@128 needs k <= EVAL_N=64"):
        assert expected in proc.stderr, (expected, proc.stderr[-4000:])
    assert "Traceback" not in proc.stderr


def test_a_worker_node_plans_only_the_sft_stage(tmp_path):
    proc = dry_run("qwen3_pear.sh", tmp_path, NNODES="2", NODE_RANK="1", STAGES="sft")
    assert proc.returncode == 0, proc.stderr[-3000:]
    planned = [line.split("[dry-run] ")[1].split(":")[0] for line in proc.stderr.splitlines() if "[dry-run] " in line]
    assert planned == ["sft"] and "trainer.nnodes=2" in proc.stderr
    refused = dry_run("qwen3_pear.sh", tmp_path, NNODES="2", NODE_RANK="1")
    assert refused.returncode != 0 and "a worker node runs only the SFT stage; set STAGES=sft" in refused.stderr
