"""verl GRPO (`main_ppo`, hf rollout) on a two-node Ray cluster made with Ray's own CLI on this one machine:
`ray start --head` plus one `ray start --address` node, each declaring one logical GPU (the CPU platform's
device), and `trainer.nnodes=2 trainer.n_gpus_per_node=1`; the launcher joins it through RAY_ADDRESS.

Two raylets on one machine stand in for two machines, as in Ray's own tests (`ray.cluster_utils.Cluster`):
each node gets its own ports and object store; they share the temp dir, the filesystem and the loopback
network. What this shows: verl's resource pool places one training worker (and its rollout server) on each
node, the CPU platform and the logger path reach the workers through the job's runtime_env rather than the
launcher's environment, and the two-node run equals a one-node run with two workers. What it cannot show:
NCCL, a real network between machines, or a filesystem that only one node sees.

Asserted: the job finished; Ray's state API puts the two `WorkerDict` actors (actor, rollout and reference
of one rank each) and the two hf rollout servers on the two node ids; step-1 metrics but timings, every
rollout and the trained weights equal those of a one-node run with two workers and the same seed. Every
process the test starts is stopped by process session id at the end, also after a failure.

Run: PYTHONPATH=$PWD OMP_NUM_THREADS=1 python -m pytest -q tests/integration/test_grpo_two_ray_nodes.py
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from pear_verl.cpu_runtime.grpo import CPU_ENV
from pear_verl.cpu_runtime.shm_guard import leaks, segments
from pear_verl.demo.pipeline import grpo_stage
from pear_verl.demo.task import GAME, KNOBS
from pear_verl.demo.tiny import save_tiny_model
from pear_verl.evaluation.rl_data import make_game_data
from tests.integration.test_grpo_cpu import REWARD, differences, weights

pytestmark = pytest.mark.integration
RAY = str(Path(sys.executable).with_name("ray"))
# Both layouts: 16 prompts x 4 samples, 32 samples per rank.
GRPO_EXTRA = [
    *[f"+reward.custom_reward_function.reward_kwargs.{k}={v}" for k, v in REWARD.items()],
    "actor_rollout_ref.actor.entropy_coeff=0.01",  # a gradient even if every reward is 0 (an untrained model)
    "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=32",
    "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=32",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_ports() -> list[str]:
    """Ports every raylet binds once per machine by default (two raylets on one machine need their own)."""
    return [f"--{name}={free_port()}" for name in (
        "dashboard-agent-listen-port", "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port")]


def session_pids(session: int) -> list[int]:
    """Live (not zombie) processes of a session."""
    pids = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if os.getsid(int(entry)) == session and state != "Z":
                pids.append(int(entry))
        except (ProcessLookupError, FileNotFoundError):
            pass
    return pids


def stop(nodes: list[subprocess.Popen]) -> None:
    """`ray start --block` stops its node on SIGTERM; whatever is left of its session (Ray's workers are in
    their own process groups, but not their own sessions) is killed."""
    for node in nodes:
        node.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(node.poll() is None or session_pids(node.pid) for node in nodes):
        time.sleep(0.5)
    for node in nodes:
        for pid in session_pids(node.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        node.wait()


@contextmanager
def two_node_cluster(cpus: int = 16):
    """`ray start --head` and `ray start --address` on localhost, one logical GPU each; yields (address, dashboard URL)."""
    # A short temp dir: Ray's Unix sockets live under it, and a socket path may not exceed 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="ray2n", dir="/tmp"))
    # Nodes get no CPU platform settings: the job's runtime_env must carry them. RAY_AUTH_MODE: Ray 2.60's head
    # turns token authentication on if ~/.ray/auth_token exists, which this test's nodes do not share.
    env = {key: value for key, value in os.environ.items() if key not in CPU_ENV and key != "RAY_ADDRESS"}
    env["RAY_AUTH_MODE"] = "disabled"
    port, dashboard = free_port(), free_port()
    common = ["--block", "--node-ip-address=127.0.0.1", f"--num-cpus={cpus}", "--num-gpus=1",
              "--object-store-memory=200000000", "--disable-usage-stats", f"--temp-dir={root}"]
    start = lambda name, args: subprocess.Popen(  # noqa: E731
        [RAY, "start", *args, *common, *node_ports()], env=env, start_new_session=True,
        stdout=open(root / f"{name}.log", "w"), stderr=subprocess.STDOUT)
    nodes = [start("head", ["--head", f"--port={port}", "--include-dashboard=true", "--dashboard-host=127.0.0.1",
                            f"--dashboard-port={dashboard}", f"--ray-client-server-port={free_port()}"])]
    try:
        nodes.append(start("worker", [f"--address=127.0.0.1:{port}"]))
        yield f"127.0.0.1:{port}", f"http://127.0.0.1:{dashboard}"
    finally:
        stop(nodes)
        shutil.rmtree(root, ignore_errors=True)


def wait_for_nodes(count: int, timeout: float = 180) -> list[str]:
    import ray

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = sorted(node["NodeID"] for node in ray.nodes() if node["Alive"])
        if len(alive) == count:
            return alive
        time.sleep(1)
    raise TimeoutError(f"{count} Ray nodes not alive after {timeout} s: {alive}")


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    """Game data and a tiny untrained model (rewards come from partial credit and the format)."""
    root = tmp_path_factory.mktemp("game")
    make_game_data(GAME, 64, 8, 0, KNOBS, root / "data", sft=True)
    return root / "data", save_tiny_model(root / "model", seed=1)


def grpo(run: Path, game, layout: list[str]) -> tuple[Path, list[dict], float]:
    data, model = game
    before, start = segments(), time.monotonic()
    export = grpo_stage(run, model, data, steps=1, rollout="hf",
                        extra=[*GRPO_EXTRA, f"trainer.rollout_data_dir={run / 'rollouts'}", *layout])
    assert not leaks(before), "shared-memory segments left in /dev/shm"
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return export, metrics, time.monotonic() - start


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory, game):
    """The GRPO run on the two-node cluster, and where Ray placed its actors ({class name: [node ids]})."""
    import ray
    from ray.util.state import list_actors

    run = tmp_path_factory.mktemp("two_nodes") / "grpo"
    with two_node_cluster() as (address, dashboard), pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_ADDRESS", address)
        patch.setenv("RAY_AUTH_MODE", "disabled")
        ray.init(address=address, log_to_driver=False)
        try:
            node_ids = wait_for_nodes(2)
            result = grpo(run, game, ["trainer.nnodes=2", "trainer.n_gpus_per_node=1"])
            placed: dict[str, list[str]] = {}
            for actor in list_actors(address=dashboard, detail=True, limit=1000, raise_on_missing_output=False):
                placed.setdefault(actor.class_name.rsplit(".", 1)[-1], []).append(actor.node_id)
        finally:
            ray.shutdown()
    return run, result, node_ids, placed


@pytest.fixture(scope="module")
def one_node(tmp_path_factory, game):
    """The same run on one node (the cluster main_ppo starts itself) with two workers."""
    run = tmp_path_factory.mktemp("one_node") / "grpo"
    return run, grpo(run, game, ["trainer.nnodes=1", "trainer.n_gpus_per_node=2", "ray_kwargs.ray_init.num_gpus=2"])


def test_grpo_places_one_worker_on_each_ray_node(two_nodes, game):
    _, (export, metrics, seconds), node_ids, placed = two_nodes
    print(f"two-node GRPO step: {seconds:.0f} s; nodes {node_ids}; actors {placed}")
    assert [m["step"] for m in metrics] == [1] and (export / "config.json").exists()
    assert sorted(placed["WorkerDict"]) == node_ids  # rank 0 on one node, rank 1 on the other
    assert sorted(placed["HFRolloutServer"]) == node_ids
    assert metrics[0]["data"]["actor/grad_norm"] > 0
    before, after = weights(game[1]), weights(export)
    assert any(not torch.equal(before[k], after[k]) for k in before)  # so that equal weights below mean something


def rollouts(run: Path) -> list[str]:
    """The dumped step-1 rollouts (prompt, response, score), sorted; without verl's per-run random `uid`."""
    rows = [json.loads(line) for line in (run / "rollouts" / "1.jsonl").read_text().splitlines()]
    return sorted(json.dumps({k: v for k, v in row.items() if k != "uid"}, sort_keys=True) for row in rows)


def test_two_nodes_train_as_one_node_with_two_workers(two_nodes, one_node):
    run, (export, metrics, _), _, _ = two_nodes
    one_run, (one_export, one_metrics, _) = one_node
    assert differences(metrics, one_metrics) == []  # rewards, lengths, losses, grad norms, entropies
    assert len(rollouts(run)) == 16 * 4 and rollouts(run) == rollouts(one_run)
    first, second = weights(export), weights(one_export)
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
