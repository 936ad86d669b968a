"""pear_verl.cpu_runtime.token_sampler against one-token-at-a-time loops over full (uncached) forwards."""

import math
from collections import Counter

import pytest
import torch
from transformers import AutoModelForCausalLM

from pear_verl.cpu_runtime.token_sampler import SamplingRequest, from_verl_params, sample_batch

PAD = 0


@pytest.fixture(scope="module")
def model(tiny_models):
    return AutoModelForCausalLM.from_pretrained(tiny_models["student"], dtype=torch.float32).eval()


def next_token_log_probs(model, ids: list[int]) -> list[float]:
    """log-softmax of the next-token logits, normalised with a plain loop."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0, -1].double().tolist()
    norm = math.log(sum(math.exp(x) for x in logits))
    return [x - norm for x in logits]


def greedy_reference(model, prompt: list[int], max_tokens: int, stops: set[int]) -> tuple[list[int], str]:
    ids, out = list(prompt), []
    for _ in range(max_tokens):
        lp = next_token_log_probs(model, ids)
        token = max(range(len(lp)), key=lp.__getitem__)
        out.append(token)
        ids.append(token)
        if token in stops:
            return out, "stop"
    return out, "length"


PROMPTS = [[5, 17, 42, 9, 33], [7, 8], [100, 3, 250, 77, 12, 61, 90, 4], [44]]


def test_greedy_ragged_batch_matches_loop(model):
    requests = [SamplingRequest(prompt_ids=tuple(p), max_tokens=m, temperature=0.0, logprobs=True) for p, m in zip(PROMPTS, [6, 9, 3, 7])]
    # A stop token the greedy path of prompt 0 actually emits (its 3rd token): that row must end there.
    stop = greedy_reference(model, PROMPTS[0], 6, set())[0][2]
    results = sample_batch(model, requests, stop_token_ids=[stop], pad_token_id=PAD)
    assert results[0].finish_reason == "stop" and len(results[0].token_ids) <= 3
    for request, result in zip(requests, results):
        expected, reason = greedy_reference(model, list(request.prompt_ids), request.max_tokens, {stop})
        assert result.token_ids == expected
        assert result.finish_reason == reason
        ids = list(request.prompt_ids)
        for token, lp in zip(result.token_ids, result.log_probs):  # raw log-probs of the emitted tokens
            assert lp == pytest.approx(next_token_log_probs(model, ids)[token], abs=1e-4)
            ids.append(token)


def test_ignore_eos_runs_to_max_tokens(model):
    stop = greedy_reference(model, PROMPTS[1], 4, set())[0][0]
    [result] = sample_batch(model, [SamplingRequest(prompt_ids=tuple(PROMPTS[1]), max_tokens=5, temperature=0.0, ignore_eos=True)], [stop], PAD)
    assert len(result.token_ids) == 5 and result.finish_reason == "length" and result.log_probs is None


def reference_distribution(model, prompt, temperature, top_k, top_p) -> dict[int, float]:
    """vLLM's order: temperature, then top-k, then top-p (smallest set with mass >= top_p)."""
    scaled = [x / temperature for x in next_token_log_probs(model, prompt)]
    order = sorted(range(len(scaled)), key=lambda i: -scaled[i])
    kept = order[:top_k] if top_k > 0 else order
    norm = sum(math.exp(scaled[i]) for i in kept)
    probs = {i: math.exp(scaled[i]) / norm for i in kept}
    nucleus, mass = [], 0.0
    for i in kept:
        if mass >= top_p:
            break
        nucleus.append(i)
        mass += probs[i]
    total = sum(probs[i] for i in nucleus)
    return {i: probs[i] / total for i in nucleus}


@pytest.mark.parametrize("temperature,top_k,top_p", [(1.0, -1, 1.0), (0.5, 4, 1.0), (2.0, -1, 0.3)])
def test_sampling_distribution(model, temperature, top_k, top_p):
    # A checkpoint's generation defaults (here a min-p filter) must not leak into the requested sampling.
    model.generation_config.min_p = 0.5
    prompt = PROMPTS[2]
    n = 4000
    torch.manual_seed(0)
    requests = [SamplingRequest(prompt_ids=tuple(prompt), max_tokens=1, temperature=temperature, top_k=top_k, top_p=top_p)] * n
    counts = Counter(r.token_ids[0] for r in sample_batch(model, requests, [], PAD))
    expected = reference_distribution(model, prompt, temperature, top_k, top_p)
    assert set(counts) <= set(expected)
    # Pearson's chi-square against the reference; the bound is far in the tail (p < 1e-4) for any df.
    chi2 = sum((counts.get(t, 0) - n * p) ** 2 / (n * p) for t, p in expected.items())
    df = len(expected) - 1
    assert chi2 < df + 5 * math.sqrt(2 * df) + 15


def test_mixed_settings_are_grouped_and_kept_in_order(model):
    greedy = SamplingRequest(prompt_ids=tuple(PROMPTS[0]), max_tokens=4, temperature=0.0)
    sampled = SamplingRequest(prompt_ids=tuple(PROMPTS[1]), max_tokens=4, temperature=1.0)
    results = sample_batch(model, [sampled, greedy, sampled], [], PAD)
    assert results[1].token_ids == greedy_reference(model, PROMPTS[0], 4, set())[0]
    assert all(len(r.token_ids) == 4 for r in results)


def test_from_verl_params():
    params = {"temperature": 0.7, "top_p": 0.9, "top_k": -1, "repetition_penalty": 1.0, "logprobs": True}
    request = from_verl_params([1, 2, 3], params, default_max_tokens=50, max_model_len=20)
    assert request.max_tokens == 17 and request.logprobs and request.top_k == -1  # clamped to the room left
    assert from_verl_params([1], {"max_tokens": 4}, 50, 20).max_tokens == 4
    assert from_verl_params([1], {"top_k": 0}, 50, 20).top_k == -1
    with pytest.raises(ValueError, match="unsupported sampling params.*stop"):
        from_verl_params([1], {"stop": ["\n"]}, 50, 20)
    with pytest.raises(ValueError, match="no room"):
        from_verl_params(list(range(20)), {}, 50, 20)


def test_raw_log_probs_chunking():
    from pear_verl.cpu_runtime.token_sampler import _raw_log_probs

    torch.manual_seed(0)
    steps = [torch.randn(3, 11) for _ in range(7)]
    tokens = torch.randint(0, 11, (3, 7))
    expected = [torch.log_softmax(steps[t][b].double(), -1)[tokens[b, t]].item() for b in range(3) for t in range(7)]
    for chunk in (1, 3, 64):
        assert _raw_log_probs(steps, tokens, chunk=chunk).flatten().tolist() == pytest.approx(expected, abs=1e-5)


def test_a_seeded_response_does_not_depend_on_its_batch(tmp_path):
    """Seeded requests, fixed padding: bit-identical tokens and log-probs alone, in batches of any size and
    make-up, at any position (the demo's student shape: without MIN_ROWS, batches of 1–10 rows differ)."""
    import random

    from pear_verl.demo.tiny import save_tiny_model

    demo_shaped = AutoModelForCausalLM.from_pretrained(save_tiny_model(tmp_path / "m", seed=0, hidden=128, layers=4, heads=4), dtype=torch.float32).eval()
    rng = random.Random(0)
    requests = [SamplingRequest(prompt_ids=tuple(rng.randrange(5, 1000) for _ in range(rng.randint(3, 30))), max_tokens=rng.randint(4, 10),
                                temperature=1.0, top_p=0.95, logprobs=True, seed=rng.randrange(2**62)) for _ in range(64)]
    reference = sample_batch(demo_shaped, requests, [], PAD, pad_to=32)
    for size in (1, 3, 7, 12, 33):
        picked = rng.sample(range(64), size)
        for i, response in zip(picked, sample_batch(demo_shaped, [requests[i] for i in picked], [], PAD, pad_to=32)):
            assert (response.token_ids, response.log_probs) == (reference[i].token_ids, reference[i].log_probs)
    reseeded = sample_batch(demo_shaped, [SamplingRequest(**{**requests[0].__dict__, "seed": requests[0].seed + 1})], [], PAD, pad_to=32)[0]
    assert reseeded.token_ids != reference[0].token_ids


def test_gumbel_noise_is_standard_gumbel_and_keyed_by_seed_and_position():
    from pear_verl.cpu_runtime.token_sampler import gumbel_noise

    seeds = torch.tensor([0, 1, 2**40 + 7, 2**62 - 1])
    noise = gumbel_noise(seeds, 0, 50_000)
    # standard Gumbel: mean = Euler's constant 0.5772, variance π²/6 = 1.6449 (SE of the mean over 2e5: 0.003)
    assert noise.mean().item() == pytest.approx(0.5772, abs=0.015) and noise.var().item() == pytest.approx(math.pi**2 / 6, abs=0.03)
    # P(G <= 0) = exp(−1) = 0.3679
    assert (noise <= 0).double().mean().item() == pytest.approx(math.exp(-1), abs=0.005)
    assert torch.equal(gumbel_noise(seeds, 0, 50_000), noise)
    later = gumbel_noise(seeds, 1, 50_000)
    rows = torch.corrcoef(torch.cat([noise, later]))  # rows (seeds) and positions uncorrelated
    assert (rows - torch.eye(8)).abs().max().item() < 0.03
