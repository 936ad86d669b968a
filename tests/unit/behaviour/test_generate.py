"""`pear-verl generate`: keep policies, verified rewards, rescored log-probs, metadata, determinism, resume."""

import pandas as pd
import pytest

from pear_verl.behaviour.generate import GenerationSettings, generate, read_generation_metadata, select
from pear_verl.behaviour.hf_backend import HFGenerator
from pear_verl.behaviour.sampling import Sample
from pear_verl.evaluation.rl_data import make_game_data
from pear_verl.training.data import BEHAVIOR_KEY
from reward_fns import compute_score
from tests.reference import forward_log_probs


@pytest.mark.parametrize(
    "scores,keep,cap,want",
    [
        ([1, 0, 1, 1], "correct", None, [0, 2, 3]),
        ([1, 0, 1, 1], "correct", 2, [0, 2]),
        ([1, 0, 1, 1], "all", None, [0, 1, 2, 3]),
        ([0.5, 0, 0.2], "all", 1, [0]),
        ([0.5, 0, 0.2], "correct", None, []),
        ([], "all", 3, []),
    ],
)
def test_keep_policies(scores, keep, cap, want):
    assert select(scores, keep, cap) == want


def test_bad_policy_and_bad_prompts(tmp_path, tiny_models):
    with pytest.raises(ValueError, match="--keep"):
        select([1.0], "best", None)
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"prompt": [[{"role": "user", "content": "hi"}], []], "data_source": ["x", "x"],
                  "reward_model": [{"ground_truth": "1"}, {"ground_truth": "2"}]}).to_parquet(bad)
    with pytest.raises(ValueError, match=f"{bad}: row 1: field 'prompt'"):
        generate(str(bad), tmp_path / "o.parquet", GenerationSettings(tiny_models["teacher"]))


@pytest.fixture(scope="module")
def prompts(tmp_path_factory):
    out = tmp_path_factory.mktemp("prompts")
    make_game_data("countdown", 6, 1, 0, {"n_numbers": 3}, out)
    return str(out / "train.parquet")


SETTINGS = dict(n=4, max_new_tokens=256, keep="all", seed=3)  # long enough for an untrained model to hit EOS


def test_generated_rows(tiny_models, prompts, tmp_path):
    out = generate(prompts, tmp_path / "sft.parquet", GenerationSettings(tiny_models["teacher"], **SETTINGS), chunk_prompts=4)
    frame, source = pd.read_parquet(out), pd.read_parquet(prompts)
    assert len(frame) >= 1 and frame["sample_index"].max() < 4
    for row in frame.itertuples():
        prompt = source.iloc[row.prompt_index]
        assert [dict(m) for m in row.messages[:-1]] == [dict(m) for m in prompt["prompt"]]
        assert row.messages[-1]["role"] == "assistant"
        truth = prompt["reward_model"]["ground_truth"]
        assert row.reward == compute_score(row.data_source, row.messages[-1]["content"], truth)["score"]
    # Behaviour log-probs are the teacher's log-probs of exactly these SFT sequences.
    for got, want in zip(frame[BEHAVIOR_KEY], forward_log_probs(tiny_models["teacher"], str(out))):
        assert max(abs(a - b) for a, b in zip(got, want)) < 1e-5
    meta = read_generation_metadata(out)
    assert (meta["model"], meta["temperature"], meta["top_p"], meta["seed"], meta["n"]) == (tiny_models["teacher"], 1.0, 1.0, 3, 4)
    assert not (tmp_path / "sft.parquet.gen-parts").exists()


def test_same_seed_same_file_and_resume(tiny_models, prompts, tmp_path, monkeypatch):
    settings = GenerationSettings(tiny_models["teacher"], **SETTINGS)
    fresh = pd.read_parquet(generate(prompts, tmp_path / "a.parquet", settings, chunk_prompts=2))
    calls = {"n": 0}
    original = HFGenerator.sample

    def killed_on_second_chunk(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HFGenerator, "sample", killed_on_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        generate(prompts, tmp_path / "b.parquet", settings, chunk_prompts=2)
    calls["n"] = -10
    resumed = pd.read_parquet(generate(prompts, tmp_path / "b.parquet", settings, chunk_prompts=2))
    assert calls["n"] == -10 + 2  # 3 chunks, the first was done before the kill
    assert resumed.equals(fresh)


def test_empty_and_unfinished_responses_are_dropped(tiny_models, prompts, tmp_path, monkeypatch):
    # Per prompt: an empty finished response, a blank one, one cut off at max_new_tokens, and a real one.
    def fake(self, prompts, settings, seed, chat_kwargs=None):
        def sample(text, finished):
            ids = self.tokenizer.encode(text, add_special_tokens=False) + ([self.tokenizer.eos_token_id] if finished else [])
            return Sample(text, finished, ids)

        return [[sample("", True), sample("  \n", True), sample("<answer>1 + 2", False), sample("<answer>1 + 2</answer>", True)] for _ in prompts]

    monkeypatch.setattr(HFGenerator, "sample", fake)
    out = generate(prompts, tmp_path / "sft.parquet", GenerationSettings(tiny_models["teacher"], **SETTINGS), chunk_prompts=4)
    frame = pd.read_parquet(out)
    assert list(frame["sample_index"]) == [3] * 6
    assert all(m[-1]["content"] == "<answer>1 + 2</answer>" for m in frame["messages"])


def test_sampling_log_probs_are_recorded_after_temperature_and_top_p(tiny_models, prompts, tmp_path):
    """The sampler's log-probs (after τ and top-p: transformers runs user processors before its own warpers, so
    generate builds them) equal rescoring under the same distribution; row ids are the sampled ids."""
    settings = GenerationSettings(tiny_models["teacher"], **{**SETTINGS, "temperature": 0.7, "top_p": 0.9})
    out = generate(prompts, tmp_path / "t.parquet", settings, chunk_prompts=6)
    agreement = read_generation_metadata(out)["rescored_vs_sampled"]
    assert agreement["rows"] == len(pd.read_parquet(out)) > 0 and agreement["max_abs"] < 1e-4


def test_settings_and_lengths_are_refused_before_sampling(tiny_models, prompts, tmp_path, monkeypatch):
    monkeypatch.setattr(HFGenerator, "__init__", lambda *a, **k: pytest.fail("a model was loaded"))
    for bad, message in [(dict(n=0), "--n must be >= 1"), (dict(temperature=0.0), "temperature must be > 0"),
                         (dict(top_p=1.5), "top_p must be in"), (dict(max_new_tokens=4000), "training max_length=1024")]:
        with pytest.raises(ValueError, match=message):
            generate(prompts, tmp_path / "x.parquet", GenerationSettings(tiny_models["teacher"], **{**SETTINGS, **bad}))
    with pytest.raises(ValueError, match="is also an input"):
        generate(prompts, prompts, GenerationSettings(tiny_models["teacher"], **SETTINGS))


def test_rerun_with_other_settings_is_refused_until_forced(tiny_models, prompts, tmp_path):
    out = tmp_path / "r.parquet"
    generate(prompts, out, GenerationSettings(tiny_models["teacher"], **SETTINGS), chunk_prompts=6)
    assert generate(prompts, out, GenerationSettings(tiny_models["teacher"], **SETTINGS), chunk_prompts=6) == out  # same: reused
    other = GenerationSettings(tiny_models["teacher"], **{**SETTINGS, "seed": 4})
    with pytest.raises(ValueError, match=r"other settings or inputs \(settings.seed: 3 -> 4\).*--force"):
        generate(prompts, out, other, chunk_prompts=6)
    generate(prompts, out, other, chunk_prompts=6, force=True)
    assert read_generation_metadata(out)["seed"] == 4


@pytest.fixture(scope="module")
def thinking_teacher(tiny_models, tmp_path_factory):
    """The tiny teacher with the Qwen3-style thinking template (tests/thinking_template.py), <think> tokens added."""
    from transformers import AutoModelForCausalLM

    from tests.thinking_template import thinking_tokenizer

    out = tmp_path_factory.mktemp("thinking_teacher")
    tok = thinking_tokenizer(tiny_models["teacher"])
    model = AutoModelForCausalLM.from_pretrained(tiny_models["teacher"])
    model.resize_token_embeddings(len(tok))
    tok.save_pretrained(out)
    model.save_pretrained(out)
    return str(out)


def test_thinking_template_trains_exactly_the_sampled_tokens(thinking_teacher, prompts, tmp_path):
    """With a Qwen3-style template, the text route would re-render the response (an empty think block the model
    never wrote); the dataset trains the sampled ids, and their behaviour log-probs are the sampler's."""
    from transformers import AutoTokenizer

    from pear_verl.training.data import PearSFTDataset

    settings = GenerationSettings(thinking_teacher, **{**SETTINGS, "temperature": 0.7, "top_p": 0.9})
    out = generate(prompts, tmp_path / "think.parquet", settings, chunk_prompts=6)
    frame = pd.read_parquet(out)
    tok = AutoTokenizer.from_pretrained(thinking_teacher)
    config = {"pad_mode": "no_padding", "max_length": 1024}
    ours = PearSFTDataset(str(out), tok, config)
    by_text = PearSFTDataset(str(out), tok, {**config, "response_ids_key": None, "behavior_log_probs_key": None})
    think = tok.convert_tokens_to_ids("<think>")
    for i, row in enumerate(frame.itertuples()):
        trained = ours[i]["input_ids"][ours[i]["loss_mask"].bool()].tolist()
        assert trained == list(row.response_ids)
        text_route = by_text[i]["input_ids"][by_text[i]["loss_mask"].bool()].tolist()
        assert text_route[0] == think and trained[0] != think  # the template adds a block the model did not write
    agreement = read_generation_metadata(out)["rescored_vs_sampled"]
    assert agreement["rows"] == len(frame) > 0 and agreement["max_abs"] < 1e-4
