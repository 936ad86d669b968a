"""pear_verl.training.checkpoints inside verl's real SFT trainer on CPU: a LoRA run's export is the trained
base + adapter, and ranks on two torchrun "nodes" train together only on the same data.
"""

import shutil
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
import torch
from peft import LoraConfig, PeftModel, TaskType, get_peft_model

from pear_verl.training.checkpoints import load_causal_lm
from pear_verl.training.data import BEHAVIOR_KEY
from tests.integration.test_sft_e2e import checked, run_sft

pytestmark = pytest.mark.integration

LORA = dict(r=4, lora_alpha=32, target_modules="all-linear")  # alpha/r = 8: a scaling bug shows


def test_lora_export_is_the_trained_base_plus_adapter(tiny_models, teacher_scored, tmp_path):
    metrics = checked(run_sft(
        tmp_path, tiny_models["student"], teacher_scored,
        f"model.lora_rank={LORA['r']}", f"model.lora_alpha={LORA['lora_alpha']}", f"model.target_modules={LORA['target_modules']}",
        "optim.lr=1e-2", "checkpoint.save_contents=[model,optimizer,extra,hf_model]", steps=2,
    ))
    assert sum("train/loss" in m for m in metrics) == 2
    step = tmp_path / "ckpt" / "global_step_2"
    exported = load_causal_lm(step / "huggingface", torch.float32)  # strict: a full model, no PEFT key

    # Reference: the trained PEFT model as verl itself saved it for resuming (one rank: the local
    # shards are whole tensors), put on the initial base with the run's LoRA settings, not merged.
    shard = torch.load(step / "model_world_size_1_rank_0.pt", weights_only=False)
    reference = get_peft_model(load_causal_lm(tiny_models["student"], torch.float32), LoraConfig(task_type=TaskType.CAUSAL_LM, bias="none", **LORA))
    loaded = reference.load_state_dict({k: v.to_local() if hasattr(v, "to_local") else v for k, v in shard.items()}, strict=False)
    assert not loaded.unexpected_keys and all("lm_head" in k for k in loaded.missing_keys)  # lm_head: tied
    base = load_causal_lm(tiny_models["student"], torch.float32)
    ids = torch.randint(0, 1000, (3, 24), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want, got, before = reference.eval()(ids).logits, exported(ids).logits, base(ids).logits
    assert (want - before).abs().max() > 0.05  # training moved the adapter: the comparison can fail
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
    # The adapter folder is a PEFT adapter for the same model (verl's model.lora_adapter_path takes it).
    with torch.no_grad():
        adapter = PeftModel.from_pretrained(base, step / "lora_adapter").eval()(ids).logits
    torch.testing.assert_close(adapter, want, rtol=0, atol=1e-5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_two_nodes(tmp_path, model, train_files):
    """Two torchrun "nodes" on localhost (NNODES=2, NODE_RANK 0 and 1, one process each), node r on
    `train_files[r]`, each in its own folder (no shared filesystem); returns both results."""
    port = free_port()

    def node(rank):
        launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", f"--node_rank={rank}", "--nproc_per_node=1",
                    "--master_addr=127.0.0.1", f"--master_port={port}"]
        return run_sft(tmp_path / f"node{rank}", model, train_files[rank], "trainer.nnodes=2", "trainer.n_gpus_per_node=1", launcher=launcher)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(node, range(2)))


def test_two_nodes_match_one_node_with_two_processes(tiny_models, teacher_scored, tmp_path):
    one_node = checked(run_sft(tmp_path / "one", tiny_models["student"], teacher_scored, "trainer.n_gpus_per_node=2", nproc=2))[0]
    copy = tmp_path / "node1_copy.parquet"  # node 1's own copy: same content, other path
    shutil.copy(teacher_scored, copy)
    node0, node1 = run_two_nodes(tmp_path, tiny_models["student"], [teacher_scored, str(copy)])
    two_nodes = checked(node0)[0]
    assert node1[0].returncode == 0, node1[0].stderr[-3000:]
    for key in ("train/loss", "pear/base_loss", "pear/weight_mean", "pear/ess", "pear/trainable_tokens"):
        assert two_nodes[key] == pytest.approx(one_node[key], rel=1e-6), key


def test_nodes_with_different_data_are_refused(tiny_models, teacher_scored, tmp_path):
    frame = pd.read_parquet(teacher_scored)
    frame.at[3, BEHAVIOR_KEY] = [x - 0.5 for x in frame.at[3, BEHAVIOR_KEY]]
    other = tmp_path / "train.parquet"  # same name, other folder: a stale copy on node 1
    frame.to_parquet(other, index=False)
    results = run_two_nodes(tmp_path, tiny_models["student"], [teacher_scored, str(other)])
    for proc, metrics in results:
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0 and not metrics
        assert "ranks see different data, every rank must read the same files: rank 0 (host" in output
        assert f"data.train_files={teacher_scored} (sha256 " in output and f"| rank 1 (host {socket.gethostname()}): data.train_files={other} (sha256 " in output
    assert not (tmp_path / "node0" / "ckpt").exists()
