"""The hf rollout server outside Ray: concurrent verl-style requests, weight sync, abort, registration.
(`tests/integration/test_grpo_cpu.py` runs it inside verl's main_ppo.)"""

import asyncio

import pytest
import torch
from transformers import AutoModelForCausalLM
from verl.workers.config import HFModelConfig, RolloutConfig

from pear_verl.cpu_runtime.hf_rollout import HFRolloutServer
from pear_verl.cpu_runtime.token_sampler import SamplingRequest, sample_batch

GREEDY = {"temperature": 0.0, "top_p": 1.0, "top_k": -1, "repetition_penalty": 1.0, "logprobs": True}


@pytest.fixture
def server(tiny_models):
    config = RolloutConfig(name="hf", prompt_length=32, response_length=6, dtype="float32", tensor_model_parallel_size=1, max_num_seqs=3)
    return HFRolloutServer(config, HFModelConfig(path=tiny_models["student"]), replica_rank=0, node_rank=0)


def greedy(model_path: str, prompts: list[list[int]], max_tokens: int, eos: int) -> list[list[int]]:
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).eval()
    requests = [SamplingRequest(prompt_ids=tuple(p), max_tokens=max_tokens, temperature=0.0) for p in prompts]
    return [r.token_ids for r in sample_batch(model, requests, [eos], 0)]


PROMPTS = [[5, 17, 42], [7, 8, 9, 10, 11], [100], [3, 3, 3, 3], [250, 1]]


def test_concurrent_requests_are_batched_and_answered_in_order(server, tiny_models):
    async def run():
        return await asyncio.gather(*[server.generate(p, dict(GREEDY), request_id=str(i)) for i, p in enumerate(PROMPTS)])

    outputs = asyncio.run(run())  # 5 requests, max_num_seqs=3: two batches
    expected = greedy(tiny_models["student"], PROMPTS, 6, server.stop_token_ids[0])
    assert [o.token_ids for o in outputs] == expected
    assert all(o.stop_reason == "completed" and len(o.log_probs) == len(o.token_ids) for o in outputs)
    assert server.stop_token_ids == [server.model_config.tokenizer.eos_token_id]


def test_weight_update_switches_the_model_and_checks_coverage(server, tiny_models):
    teacher = AutoModelForCausalLM.from_pretrained(tiny_models["teacher"], dtype=torch.float32).state_dict()
    with pytest.raises(KeyError, match="lacks"):
        server.update_weights({k: v for k, v in teacher.items() if "layers.0." not in k})
    with pytest.raises(KeyError, match="unknown parameters"):
        server.update_weights({**teacher, "model.extra.weight": torch.zeros(1)})
    assert server.update_weights(teacher, global_steps=3) == 1

    async def run():
        return await server.generate(PROMPTS[1], dict(GREEDY), request_id="x")

    output = asyncio.run(run())
    assert output.token_ids == greedy(tiny_models["teacher"], [PROMPTS[1]], 6, server.stop_token_ids[0])[0]
    assert output.extra_fields["global_steps"] == 3


def test_abort_answers_queued_and_new_requests_as_aborted(server):
    async def run():
        pending = asyncio.ensure_future(server.generate(PROMPTS[0], dict(GREEDY), request_id="a"))
        await asyncio.sleep(0)  # queued, not started (the batcher waits for more requests)
        result = await server.abort_all_requests()
        late = await server.generate(PROMPTS[1], dict(GREEDY), request_id="b")
        await server.resume_generation()
        resumed = await server.generate(PROMPTS[1], dict(GREEDY), request_id="c")
        return await pending, result, late, resumed

    pending, result, late, resumed = asyncio.run(run())
    assert result["aborted_count"] == 1 and pending.stop_reason == "aborted" and pending.token_ids == []
    assert late.stop_reason == "aborted"
    assert resumed.stop_reason == "completed" and resumed.token_ids


def test_unsupported_requests_fail_clearly(server):
    with pytest.raises(ValueError, match="unsupported sampling params"):
        asyncio.run(server.generate(PROMPTS[0], {"stop": ["x"]}, request_id="s"))
    with pytest.raises(NotImplementedError, match="text-only"):
        asyncio.run(server.generate(PROMPTS[0], {}, request_id="i", image_data=[object()]))


def test_verl_resolves_the_hf_backend():
    from verl.workers.rollout.base import get_rollout_class
    from verl.workers.rollout.replica import get_rollout_replica_class

    from pear_verl.cpu_runtime.hf_rollout import HFReplica, HFServerAdapter

    assert get_rollout_replica_class("hf") is HFReplica
    assert get_rollout_class("hf", "async") is HFServerAdapter


SAMPLED = {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "repetition_penalty": 1.0, "logprobs": True}


def test_stable_request_ids_give_the_same_samples_whatever_the_arrival(tiny_models):
    """verl's `det-<index>` ids (rollout.full_determinism): same responses in any order and batching."""
    def serve(order, max_num_seqs):
        config = RolloutConfig(name="hf", prompt_length=32, response_length=6, dtype="float32", tensor_model_parallel_size=1,
                               max_num_seqs=max_num_seqs, seed=7)
        server = HFRolloutServer(config, HFModelConfig(path=tiny_models["student"]), replica_rank=0, node_rank=0)

        async def run():
            return await asyncio.gather(*[server.generate(PROMPTS[i % 5], dict(SAMPLED), request_id=f"det-{i}") for i in order])

        return {i: (o.token_ids, o.log_probs) for i, o in zip(order, asyncio.run(run()))}

    first = serve(list(range(10)), 10)
    assert serve([3, 9, 0, 5, 1, 7, 2, 8, 4, 6], 3) == first
    assert first[0] != first[5]  # the same prompt under another id is another sample


def test_other_request_ids_draw_seeds_in_arrival_order(server):
    request = SamplingRequest(prompt_ids=(1, 2), max_tokens=3)
    seeds = [server.request_seed(str(i), request) for i in range(3)]
    assert len(set(seeds)) == 3
    again = [server.request_seed("x", request) for _ in range(3)]
    assert again != seeds
    assert server.request_seed("x", SamplingRequest(prompt_ids=(1, 2), max_tokens=3, seed=99)) == 99  # vLLM's per-request seed
