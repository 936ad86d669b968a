"""`--backend vllm` of score / generate against the HF backend and a loop reference, on vLLM's CPU build.

Tolerance: 1e-4 per token (both sides float32; observed about 1e-6). Each test starts one vLLM engine
(eager mode), which takes tens of seconds on CPU."""

import pandas as pd
import pytest

from pear_verl.behaviour.generate import GenerationSettings, generate, read_generation_metadata
from pear_verl.behaviour.hf_backend import HFScorer
from pear_verl.behaviour.sampling import SamplingDistribution, TokenSequence
from pear_verl.behaviour.score import read_behavior_metadata, score_parquet
from pear_verl.demo.tiny import VLLM_TINY, save_tiny_model
from pear_verl.evaluation.rl_data import make_game_data
from pear_verl.training.data import BEHAVIOR_KEY
from tests.reference import DATA_CONFIG, forward_log_probs

pytestmark = pytest.mark.integration
TOL = 1e-4


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    return str(save_tiny_model(tmp_path_factory.mktemp("vllm_model"), seed=1, **VLLM_TINY))


@pytest.fixture(scope="module")
def prompts(tmp_path_factory):
    out = tmp_path_factory.mktemp("prompts")
    make_game_data("countdown", 6, 1, 0, {"n_numbers": 3}, out)
    return str(out / "train.parquet")


def assert_close_rows(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert len(a) == len(b) and max(abs(x - y) for x, y in zip(a, b)) < TOL


def test_score_vllm_matches_hf_and_the_loop_reference(teacher, raw_parquet, tmp_path):
    vllm = score_parquet(raw_parquet, tmp_path / "vllm.parquet", teacher, data_config=DATA_CONFIG, backend="vllm", enforce_eager=True)
    hf = score_parquet(raw_parquet, tmp_path / "hf.parquet", teacher, data_config=DATA_CONFIG)
    got = pd.read_parquet(vllm)[BEHAVIOR_KEY].tolist()
    assert_close_rows(got, pd.read_parquet(hf)[BEHAVIOR_KEY].tolist())
    assert_close_rows(got, forward_log_probs(teacher, vllm))
    assert read_behavior_metadata(vllm)["backend"] == "vllm"


@pytest.mark.parametrize("temperature,scored_by", [(1.0, "vllm"), (0.7, "hf")])
def test_generate_with_vllm_rescores_under_the_sampling_distribution(teacher, prompts, tmp_path, temperature, scored_by, monkeypatch):
    """τ = 1: rescored by the engine that sampled; τ = 0.7: by HF after that engine was shut down. Either way
    the job starts one engine and shuts it down."""
    import pear_verl.behaviour.vllm_backend as vllm_backend

    events = []
    make_llm, shutdown = vllm_backend.make_llm, vllm_backend.shutdown
    monkeypatch.setattr(vllm_backend, "make_llm", lambda *a, **k: events.append("start") or make_llm(*a, **k))
    monkeypatch.setattr(vllm_backend, "shutdown", lambda llm: events.append("stop") or shutdown(llm))
    settings = GenerationSettings(teacher, n=4, temperature=temperature, max_new_tokens=256, keep="all", seed=3,
                                  backend="vllm", enforce_eager=True)
    out = generate(prompts, tmp_path / "sft.parquet", settings)
    frame = pd.read_parquet(out)
    assert len(frame) >= 1
    assert read_behavior_metadata(out)["backend"] == scored_by
    assert events == ["start", "stop"]
    assert_close_rows(frame[BEHAVIOR_KEY].tolist(), forward_log_probs(teacher, out, temperature=temperature))
    agreement = read_generation_metadata(out)["rescored_vs_sampled"]  # vLLM's sampling log-probs vs the rescoring
    assert agreement["rows"] == len(frame) and agreement["max_abs"] < 1e-4, agreement


def test_hf_scoring_is_the_distribution_vllm_samples_from(teacher):
    """vLLM's own log-probs of the tokens it sampled (after temperature and top-k: `processed_logprobs`)
    equal HF scoring of the same token sequences under the same SamplingDistribution."""
    from vllm import SamplingParams

    from pear_verl.behaviour.vllm_backend import make_llm, shutdown

    dist = SamplingDistribution(temperature=0.7, top_k=50)
    llm = make_llm(teacher, dtype="float32", enforce_eager=True, logprobs_mode="processed_logprobs")
    params = SamplingParams(n=4, temperature=dist.temperature, top_k=dist.top_k, max_tokens=32, logprobs=0, seed=0)
    prompts = [[{"role": "user", "content": text}] for text in ("3 6 2 -> 1", "the answer is")]
    outputs = llm.chat(prompts, params, use_tqdm=False)
    shutdown(llm)
    import torch

    sequences, want = [], []
    for output in outputs:
        for sample in output.outputs:
            ids = list(output.prompt_token_ids) + list(sample.token_ids)
            mask = [0] * len(output.prompt_token_ids) + [1] * len(sample.token_ids)
            sequences.append(TokenSequence(torch.tensor(ids), torch.tensor(mask)))
            want.append([step[token].logprob for step, token in zip(sample.logprobs, sample.token_ids)])
    got = HFScorer(teacher, dtype="float32").score(sequences, dist)
    assert_close_rows([g.tolist() for g in got], want)
