"""`actor_rollout_ref.rollout.name=hf`: a verl rollout backend that generates with HF transformers.

Why: verl 0.9's RL loop only ships vLLM/SGLang/TRT-LLM rollouts, all GPU-only, so nobody can run GRPO
on a CPU (verl issue #3266). This backend plugs into verl's own extension points — nothing in verl is
forked — so `python -m verl.trainer.main_ppo actor_rollout_ref.rollout.name=hf ...` runs the whole RL
loop on CPU (with `pear_verl.cpu_runtime.grpo.cpu_grpo_overrides('hf')`), e.g. for laptops, CI and the built-in demo.

The three parts mirror verl's vLLM backend:
- `HFRolloutServer`: a Ray actor holding an HF model. `generate(prompt_ids, sampling_params, ...)`
  is verl's token-in-token-out server call; concurrent requests are gathered into batches and sampled
  by `pear_verl.cpu_runtime.token_sampler` (vLLM semantics: n via verl's repeated requests, temperature, top-k,
  top-p, max_tokens, stop tokens, raw log-probs).
- `HFReplica` (`RolloutReplicaRegistry`): starts one server per replica node, named like vLLM's
  (`hf_server_<replica>_<node>`), next to the hybrid actor workers.
- `HFServerAdapter` (`BaseRollout`, lives in the actor worker): after each actor update verl hands it
  the actor's full weights (`update_weights`); rank 0 of each replica sends them to its server, which
  loads them (every parameter must be covered) before the next rollout.
Weights, "KV cache" and sleep/wake are plain CPU memory here, so sleep/wake_up/kv-cache calls are
no-ops; abort_all_requests aborts queued requests (returned with stop_reason "aborted", as vLLM does).

Reproducible rollouts: requests are batched as they arrive, so a batch's make-up depends on timing. A
response depends on its own request only (`token_sampler`: per-request seeds, fixed prompt padding), and
its seed is a hash of (rollout seed, replica, weight version, request id, prompt, how often that id and
prompt came before at this weight version) when verl's request id is stable: `rollout.full_determinism=True`,
which `cpu_grpo_overrides('hf')` sets, makes verl's agent loops send `det-<priority>` (in verl 0.9.1's
trainer `det-0` for every sample). A prompt's n samples then get the same n seeds in every run; which of
its n sessions gets which sample follows arrival order, which `replay_order` makes irrelevant. Other ids (a
fresh uuid per request) get seeds from the server's seeded generator in arrival order.

Run: registered as "hf" by the `verl.plugins` entry point (`pear_verl.plugin`); see docs/cpu_runtime.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections import Counter
from dataclasses import replace
from typing import Any, Optional

import ray
import torch
from verl.utils.config import omega_conf_to_dataclass
from verl.workers.config import HFModelConfig
from verl.workers.rollout.base import BaseRollout
from verl.workers.rollout.replica import RolloutReplica, TokenOutput

from pear_verl.cpu_runtime.token_sampler import SamplingRequest, from_verl_params, sample_batch

NAME = "hf"


def server_name(replica_rank: int, node_rank: int, suffix: str = "") -> str:
    return f"{NAME}_server_{replica_rank}_{node_rank}{suffix}"


class HFRolloutServer:
    """One rollout server (a Ray actor): batches concurrent `generate` calls onto an HF model."""

    def __init__(self, config, model_config, replica_rank: int, node_rank: int):
        from pear_verl.training.checkpoints import load_causal_lm

        config = omega_conf_to_dataclass(config)
        model_config = omega_conf_to_dataclass(model_config, dataclass_type=HFModelConfig)
        self.config, self.model_config, self.replica_rank = config, model_config, replica_rank
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))  # Ray pins actors to 1 thread by default
        self.arrival_seeds = torch.Generator().manual_seed(config.seed + replica_rank)
        dtype = getattr(torch, config.dtype) if isinstance(config.dtype, str) else config.dtype
        self.model = load_causal_lm(model_config.local_path, dtype)
        self.max_model_len = config.max_model_len or config.prompt_length + config.response_length
        self.stop_token_ids = _stop_token_ids(model_config)
        self.tied_names = _tied_names(self.model)  # fixed by the architecture: a sync need not send them
        tokenizer = model_config.tokenizer
        self.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.stop_token_ids[0]
        self.global_steps: Optional[int] = None
        self.weight_version = 0
        self._queue: list[tuple[SamplingRequest, asyncio.Future]] = []
        self._wakeup: Optional[asyncio.Event] = None
        self._aborting = False
        self._repeats: Counter = Counter()  # stable request keys seen at the current weight version
        self._repeats_version = 0

    def request_seed(self, request_id: str, request: SamplingRequest) -> int:
        """A stable request id (verl's `det-…`) gives a seed that depends on nothing but the request;
        any other id, the request's own seed (vLLM's per-request `seed`) or the server generator's next draw."""
        if not str(request_id).startswith("det-"):
            return request.seed if request.seed is not None else int(torch.randint(0, 2**62, (), generator=self.arrival_seeds))
        if self._repeats_version != self.weight_version:
            self._repeats, self._repeats_version = Counter(), self.weight_version
        key = (self.config.seed, request.seed, self.replica_rank, self.weight_version, str(request_id), request.prompt_ids)
        self._repeats[key] += 1  # the same id and prompt again (the prompt's other samples, another turn): another seed
        digest = hashlib.blake2b(repr((*key, self._repeats[key])).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") >> 2

    async def generate(self, prompt_ids: list[int], sampling_params: dict[str, Any], request_id: str, image_data=None, video_data=None, **_) -> TokenOutput:
        if image_data is not None or video_data is not None:
            raise NotImplementedError("the hf rollout backend serves text-only models")
        default = min(self.config.response_length, self.config.prompt_length + self.config.response_length - len(prompt_ids))
        request = from_verl_params(prompt_ids, dict(sampling_params), default, self.max_model_len)
        request = replace(request, seed=self.request_seed(request_id, request))
        if self._aborting:
            return self._aborted()
        future = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        self._ensure_batcher().set()
        return await future

    def _ensure_batcher(self) -> asyncio.Event:
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
            asyncio.get_running_loop().create_task(self._batch_loop())
        return self._wakeup

    async def _batch_loop(self) -> None:
        """Run queued requests in batches of at most max_num_seqs, one batch at a time."""
        while True:
            await self._wakeup.wait()
            await asyncio.sleep(0.01)  # let the other concurrent requests of this rollout arrive
            self._wakeup.clear()
            while self._queue:
                batch, self._queue = self._queue[: self.config.max_num_seqs], self._queue[self.config.max_num_seqs :]
                try:
                    responses = await asyncio.to_thread(sample_batch, self.model, [r for r, _ in batch], self.stop_token_ids, self.pad_token_id,
                                                        self.config.prompt_length)
                except Exception as error:  # fail the requests, keep serving
                    for _, future in batch:
                        future.set_exception(error)
                    continue
                for (_, future), response in zip(batch, responses):
                    future.set_result(
                        TokenOutput(
                            token_ids=response.token_ids,
                            log_probs=response.log_probs,
                            stop_reason="completed",  # vLLM's value for both a stop token and max_tokens
                            extra_fields={"global_steps": self.global_steps},
                        )
                    )

    def update_weights(self, named_tensors: dict[str, torch.Tensor], global_steps: Optional[int] = None) -> int:
        """Load the actor's full weights; every model parameter must be among them."""
        model_state = self.model.state_dict()
        unknown = sorted(set(named_tensors) - set(model_state))
        if unknown:
            raise KeyError(f"hf rollout: weights for unknown parameters {unknown[:5]} (model {self.model_config.local_path})")
        missing = set(model_state) - set(named_tensors) - self.tied_names
        if missing:
            raise KeyError(f"hf rollout: weight update lacks {sorted(missing)[:5]}")
        with torch.no_grad():
            for name, tensor in named_tensors.items():
                model_state[name].copy_(tensor)
        self.weight_version += 1
        if global_steps is not None:
            self.global_steps = global_steps
        return self.weight_version

    async def set_global_steps(self, global_steps: int) -> None:
        self.global_steps = global_steps

    async def abort_all_requests(self, reset_prefix_cache: bool = True, reject_request: bool = False) -> dict[str, Any]:
        self._aborting = True
        queued, self._queue = self._queue, []
        for _, future in queued:
            future.set_result(self._aborted())
        return {"aborted_count": len(queued), "request_ids": []}

    async def resume_generation(self) -> None:
        self._aborting = False

    def _aborted(self) -> TokenOutput:
        return TokenOutput(token_ids=[], stop_reason="aborted", extra_fields={"global_steps": self.global_steps})

    # Memory management: weights and caches live in ordinary CPU memory, nothing to release or restore.
    async def wake_up(self, tags: Optional[list[str]] = None) -> None: ...
    async def sleep(self) -> None: ...
    async def clear_kv_cache(self) -> None: ...
    async def release_kv_cache(self) -> None: ...
    async def resume_kv_cache(self) -> None: ...
    async def start_profile(self, **kwargs) -> None: ...
    async def stop_profile(self) -> None: ...


def _stop_token_ids(model_config) -> list[int]:
    """The tokenizer's EOS plus the model's generation_config eos ids (what vLLM stops on)."""
    ids = []
    for source in (model_config.tokenizer.eos_token_id, getattr(model_config.generation_config, "eos_token_id", None)):
        ids += source if isinstance(source, (list, tuple)) else [source]
    stops = sorted({int(i) for i in ids if i is not None})
    if not stops:
        raise ValueError(f"hf rollout: {model_config.local_path} defines no EOS token; responses could never stop")
    return stops


def _tied_names(model) -> set[str]:
    """Parameters that share storage with an earlier one (e.g. lm_head tied to the embeddings)."""
    seen, tied = set(), set()
    for name, tensor in model.state_dict(keep_vars=True).items():
        if tensor.data_ptr() in seen:
            tied.add(name)
        seen.add(tensor.data_ptr())
    return tied


class HFReplica(RolloutReplica):
    """verl rollout replica: one `HFRolloutServer` per node of the replica."""

    async def launch_servers(self) -> None:
        node_ids = await asyncio.gather(*[w.__ray_call__.remote(lambda _: ray.get_runtime_context().get_node_id()) for w in self.workers])
        server_cls = ray.remote(HFRolloutServer)
        for node_rank in range(self.nnodes):
            name = server_name(self.replica_rank, node_rank, self.name_suffix)
            server = server_cls.options(
                name=name,
                max_concurrency=self.max_concurrency,
                scheduling_strategy=ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(node_id=node_ids[node_rank * self.gpus_per_replica_node], soft=False),
            ).remote(self.config, self.model_config, self.replica_rank, node_rank)
            self.servers.append(server)
        await asyncio.gather(*[s.set_global_steps.remote(0) for s in self.servers])  # waits until the models are loaded
        self._server_handle = self.servers[0]
        self._server_address = f"{NAME}://{server_name(self.replica_rank, 0, self.name_suffix)}"  # an id: no HTTP server

    def rollout_worker_use_gpu(self) -> bool:
        return False


class HFServerAdapter(BaseRollout):
    """In the actor worker: forwards weight updates to this replica's `HFRolloutServer`."""

    def __init__(self, config, model_config, device_mesh, replica_rank: int = -1):
        super().__init__(config, model_config, device_mesh)
        rank = int(os.environ["RANK"])
        world = self.config.tensor_model_parallel_size * self.config.data_parallel_size * self.config.pipeline_model_parallel_size
        self.replica_rank = rank // world if replica_rank == -1 else replica_rank
        self.is_leader_rank = rank % world == 0
        self._server = None

    def _server_handle(self):
        if self._server is None:
            self._server = ray.get_actor(server_name(self.replica_rank, 0))
        return self._server

    async def update_weights(self, weights, global_steps: Optional[int] = None, wire_format: str = "named_tensors", peft_config=None, **kwargs):
        if wire_format != "named_tensors":
            raise NotImplementedError(f"hf rollout: wire_format {wire_format!r}; use checkpoint_engine.backend=naive")
        if peft_config is not None:
            raise NotImplementedError("hf rollout: LoRA adapters are not synced; set actor_rollout_ref.model.lora.merge=True")
        # Every rank must drain the generator: producing a full tensor is a collective over the actor's ranks.
        state = {name: tensor.detach().to("cpu", copy=True) for name, tensor in weights if self.is_leader_rank}
        if self.is_leader_rank:
            await self._server_handle().update_weights.remote(state, global_steps)

    async def resume(self, tags: list[str]) -> None: ...
    async def release(self) -> None: ...

