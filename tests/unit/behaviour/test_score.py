"""`pear-verl score`: exact log-probs (also under temperature/top-k/top-p), shards, resume, errors."""

import math

import pandas as pd
import pytest
import torch
from transformers import AutoTokenizer

from pear_verl.behaviour.hf_backend import HFScorer
from pear_verl.behaviour.sampling import BoundarySlack, SamplingDistribution, sampling_log_probs
from pear_verl.behaviour.score import ScoreSettings, merge_shards, read_behavior_metadata, score_shard
from pear_verl.cli import main as cli
from pear_verl.demo.tiny import build_model, build_tokenizer
from pear_verl.training.data import BEHAVIOR_KEY, FINGERPRINT_KEY, BehaviorDataError, PearSFTDataset
from tests.reference import DATA_CONFIG, forward_log_probs


def settings(model, **kw):
    return ScoreSettings(model=model, tokenizer=kw.pop("tokenizer", model), data_config=dict(DATA_CONFIG), **kw)


@pytest.mark.parametrize("batch_tokens", [64, 100_000])  # many small padded batches / one batch
def test_log_probs_equal_a_direct_forward(tiny_models, raw_parquet, tmp_path, batch_tokens):
    out = score_shard([raw_parquet], tmp_path / "out.parquet", settings(tiny_models["teacher"]), max_batch_tokens=batch_tokens)
    got = pd.read_parquet(out)[BEHAVIOR_KEY]
    want = forward_log_probs(tiny_models["teacher"], raw_parquet)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert len(g) == len(w)
        assert max(abs(a - b) for a, b in zip(g, w)) < 1e-5  # float32 forward vs float64 reference


def test_temperature(tiny_models, raw_parquet, tmp_path):
    out = score_shard([raw_parquet], tmp_path / "t.parquet", settings(tiny_models["teacher"], temperature=0.7))
    got = pd.read_parquet(out)[BEHAVIOR_KEY]
    want = forward_log_probs(tiny_models["teacher"], raw_parquet, temperature=0.7)
    for g, w in zip(got, want):
        assert max(abs(a - b) for a, b in zip(g, w)) < 1e-5
    plain = forward_log_probs(tiny_models["teacher"], raw_parquet)
    assert abs(got[0][0] - plain[0][0]) > 1e-3
    assert read_behavior_metadata(out)["temperature"] == 0.7


def loop_kept(scores: list[float], top_k, top_p) -> list[int]:
    """Token ids kept by top-k then top-p, highest first (plain Python over one row)."""
    ranked = sorted(range(len(scores)), key=lambda v: -scores[v])
    kept = ranked[:top_k] if top_k else ranked
    if top_p is None:
        return kept
    total = sum(math.exp(scores[v]) for v in kept)
    mass, nucleus = 0.0, []
    for v in kept:
        if mass >= top_p:
            break
        nucleus.append(v)
        mass += math.exp(scores[v]) / total
    return nucleus


def loop_log_prob(scores: list[float], target: int, top_k, top_p, slack) -> tuple[float, bool]:
    """(log π(target), scored at the edge) by the rules of BoundarySlack, one row at a time."""
    kept = loop_kept(scores, top_k, top_p)
    if target in kept:
        return scores[target] - math.log(sum(math.exp(scores[v]) for v in kept)), False
    if slack is None:
        return -math.inf, False
    betters = [v for v in range(len(scores)) if scores[v] >= scores[target]]  # the target and every token as likely
    if top_k:
        kth = sorted(scores, reverse=True)[top_k - 1]
        if scores[target] < kth - slack.top_k_logit:
            return -math.inf, False
    if top_p:  # the mass before the target, among the top-k tokens and the target's betters
        pool = [v for v in range(len(scores)) if v in betters or not top_k or scores[v] >= kth]
        total = sum(math.exp(scores[v]) for v in pool)
        if sum(math.exp(scores[v]) for v in pool if scores[v] > scores[target]) / total >= top_p + slack.top_p_mass:
            return -math.inf, False
    extended = set(kept) | set(betters)
    return scores[target] - math.log(sum(math.exp(scores[v]) for v in extended)), True


@pytest.mark.parametrize("slack", [None, BoundarySlack(0.0, 0.0), BoundarySlack(), BoundarySlack(1.0, 0.3)])
@pytest.mark.parametrize("temperature,top_k,top_p", [(1.0, 5, None), (0.5, None, 0.9), (1.3, 20, 0.5), (1.0, None, 1.0), (0.8, 1, None), (0.7, 10, 0.8), (1.0, 50, None)])
def test_truncated_distributions_match_a_loop(temperature, top_k, top_p, slack):
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(60, 50, generator=gen) * 3
    targets = torch.randint(0, 50, (60,), generator=gen)
    targets[:10] = logits[:10].argmax(-1)  # some targets surely inside the kept set
    # some just outside it: the next token after the kept set, in rank order
    for row in range(10, 30):
        kept = loop_kept((logits[row].double() / temperature).tolist(), top_k, top_p)
        ranked = torch.argsort(logits[row], descending=True).tolist()
        targets[row] = ranked[min(len(kept), 49)]
    got, at_edge = sampling_log_probs(logits, targets, SamplingDistribution(temperature, top_k, top_p), slack)
    edge_rows = 0
    for row in range(60):
        want, want_edge = loop_log_prob((logits[row].double() / temperature).tolist(), int(targets[row]), top_k, top_p, slack)
        if want == -math.inf:
            assert got[row].item() == -math.inf and not at_edge[row]
        else:
            assert got[row].item() == pytest.approx(want, abs=1e-5)
            assert bool(at_edge[row]) == want_edge
            edge_rows += want_edge
    if slack == BoundarySlack(1.0, 0.3) and 1 < (top_k or 2) < 50 and top_p != 1.0:  # some truncation to be at the edge of
        assert edge_rows > 0  # the slack is exercised, not only the refusals


def test_slack_is_checked():
    with pytest.raises(ValueError, match="top-p-slack"):
        BoundarySlack(0.25, 1.5)
    with pytest.raises(ValueError, match="top-k-slack"):
        BoundarySlack(-1, 0.02)


def test_token_outside_the_nucleus_is_reported(tiny_models, raw_parquet, tmp_path):
    with pytest.raises(BehaviorDataError, match=rf"{raw_parquet}: row \d+: token \d+ at position \d+ has probability 0"):
        score_shard([raw_parquet], tmp_path / "x.parquet", settings(tiny_models["teacher"], top_k=1))


def test_tokens_at_the_edge_are_scored_and_counted(tiny_models, raw_parquet, tmp_path):
    """Within the slack a token outside top-k is scored (in top-k plus its betters) and counted in the metadata."""
    out = score_shard([raw_parquet], tmp_path / "edge.parquet", settings(tiny_models["teacher"], top_k=1, slack=BoundarySlack(100.0, 0.0)))
    edge = read_behavior_metadata(out)["edge_tokens"]
    values = [v for row in pd.read_parquet(out)[BEHAVIOR_KEY] for v in row]
    assert edge == sum(v < -1e-6 for v in values) > 0  # top-1 alone gives log 1 = 0; an edge token shares the set


@pytest.mark.parametrize("flag,value", [("--top-p-slack", "1.5"), ("--top-k-slack", "-1")])
def test_slack_flags_are_checked_before_any_work(tiny_models, raw_parquet, tmp_path, flag, value):
    with pytest.raises(SystemExit, match=flag):
        cli(["score", raw_parquet, "--out", str(tmp_path / "x.parquet"), "--model", tiny_models["teacher"], flag, value])
    assert not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize("edge", [False, True])  # True: shards with different edge-token counts, summed on merging
def test_shards_merge_to_the_single_run(tiny_models, raw_parquet, tmp_path, edge):
    knobs = dict(top_k=1, slack=BoundarySlack(100.0, 0.0)) if edge else {}
    one = score_shard([raw_parquet], tmp_path / "one.parquet", settings(tiny_models["teacher"], **knobs))
    for i in range(3):
        score_shard([raw_parquet], tmp_path / "sharded.parquet", settings(tiny_models["teacher"], **knobs), shard=(i, 3))
    shard_edges = [read_behavior_metadata(tmp_path / f"sharded.shard-{i}-of-3.parquet")["edge_tokens"] for i in range(3)]
    merged = merge_shards(tmp_path / "sharded.parquet", 3)
    assert pd.read_parquet(merged).equals(pd.read_parquet(one))
    assert read_behavior_metadata(merged)["edge_tokens"] == read_behavior_metadata(one)["edge_tokens"] == sum(shard_edges)
    assert (len(set(shard_edges)) > 1) == edge


def test_killed_run_resumes_to_the_same_file(tiny_models, raw_parquet, tmp_path, monkeypatch):
    calls = {"n": 0}
    original = HFScorer.score

    def dies_on_third_chunk(self, sequences, dist):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        return original(self, sequences, dist)

    monkeypatch.setattr(HFScorer, "score", dies_on_third_chunk)
    out = tmp_path / "resumed.parquet"
    with pytest.raises(KeyboardInterrupt):
        score_shard([raw_parquet], out, settings(tiny_models["teacher"]), chunk_rows=4)
    assert not out.exists() and len(list((tmp_path / "resumed.parquet.parts").glob("*.parquet"))) == 2
    calls["n"] = -100  # no more failures
    score_shard([raw_parquet], out, settings(tiny_models["teacher"]), chunk_rows=4)
    assert calls["n"] == -100 + 2  # 16 rows / 4 = 4 chunks, 2 were done before the kill
    monkeypatch.undo()
    fresh = score_shard([raw_parquet], tmp_path / "fresh.parquet", settings(tiny_models["teacher"]), chunk_rows=4)
    assert pd.read_parquet(out).equals(pd.read_parquet(fresh))
    assert not (tmp_path / "resumed.parquet.parts").exists()


def test_the_scored_file_trains(tiny_models, raw_parquet, tmp_path):
    """What `score` writes is what PearSFTDataset accepts (columns, counts, fingerprints)."""
    out = score_shard([raw_parquet], tmp_path / "s.parquet", settings(tiny_models["teacher"]))
    dataset = PearSFTDataset(str(out), AutoTokenizer.from_pretrained(tiny_models["teacher"]), DATA_CONFIG)
    assert BEHAVIOR_KEY in dataset[0] and FINGERPRINT_KEY in pd.read_parquet(out)


def test_misaligned_tokenizer(tiny_models, raw_parquet, tmp_path):
    other = tmp_path / "other_model"
    tokenizer = build_tokenizer(vocab_size=300)
    tokenizer.save_pretrained(other)
    build_model(len(tokenizer)).save_pretrained(other)
    with pytest.raises(BehaviorDataError, match="tokenises differently from the training tokenizer"):
        score_shard([raw_parquet], tmp_path / "x.parquet", settings(str(other), tokenizer=tiny_models["student"]))


def test_empty_response_and_over_long_rows(tiny_models, raw_parquet, tmp_path):
    frame = pd.read_parquet(raw_parquet)
    messages = list(frame.at[3, "messages"])
    messages[1] = {"role": "assistant", "content": "  "}
    frame.at[3, "messages"] = messages
    bad = tmp_path / "bad.parquet"
    frame.to_parquet(bad, index=False)
    with pytest.raises(BehaviorDataError, match=rf"{bad}: row 3: field 'messages': empty assistant response"):
        score_shard([str(bad)], tmp_path / "x.parquet", settings(tiny_models["teacher"]))
    short = settings(tiny_models["teacher"])
    short.data_config["max_length"] = 10
    with pytest.raises(BehaviorDataError, match=rf"{raw_parquet}: row 0: field 'messages'.*max_length"):
        score_shard([raw_parquet], tmp_path / "y.parquet", short)


def test_cli(tiny_models, raw_parquet, tmp_path, capsys):
    cli(["score", raw_parquet, "--out", str(tmp_path / "c.parquet"), "--model", tiny_models["teacher"], "--data", "max_length=256"])
    assert (tmp_path / "c.parquet").exists()
    with pytest.raises(SystemExit, match="--shard must be"):
        cli(["score", raw_parquet, "--out", str(tmp_path / "d.parquet"), "--model", tiny_models["teacher"], "--shard", "3/2"])


def test_vllm_refuses_unsupported_sampling_before_an_engine_starts(tiny_models, raw_parquet, tmp_path, monkeypatch):
    import pear_verl.behaviour.vllm_backend as vllm_backend

    def no_engine(*args, **kwargs):
        raise AssertionError("an engine was started")

    monkeypatch.setattr(vllm_backend, "make_llm", no_engine)
    for knobs in (dict(temperature=0.7), dict(top_k=5), dict(top_p=0.9)):
        with pytest.raises(ValueError, match="use --backend hf"):
            score_shard([raw_parquet], tmp_path / "out.parquet", settings(tiny_models["teacher"], backend="vllm", **knobs))
    assert not (tmp_path / "out.parquet.parts").exists()


@pytest.mark.parametrize("dtype,want", [("auto", torch.float32), ("bfloat16", torch.bfloat16)])
def test_scoring_dtype(tiny_models, dtype, want):
    assert next(HFScorer(tiny_models["teacher"], dtype=dtype).model.parameters()).dtype == want
    with pytest.raises(ValueError, match="dtype must be one of"):
        HFScorer(tiny_models["teacher"], dtype="fp8")


@pytest.mark.parametrize(
    "pairs,message",
    [
        (["max_lenght=4096"], "--data max_lenght: not a data.* setting; did you mean max_length?"),
        (["max_length=0"], "--data max_length=0: must be >= 1"),
        (["max_length=1.5"], "--data max_length"),
        (["truncation=left"], "--data truncation='left': must be one of error, right"),
        (["train_turns=first"], "--data train_turns='first': must be one of all, last"),
        (["apply_chat_template_kwargs=yes"], "expected a JSON object"),
    ],
)
def test_bad_data_settings_are_refused_up_front(pairs, message):
    """A typo in --data would otherwise be ignored, and the stages would tokenise differently from training."""
    from pear_verl.behaviour.score import data_settings

    with pytest.raises(ValueError) as err:
        data_settings(pairs)
    assert message in str(err.value)
    assert data_settings(["max_length=8192", 'apply_chat_template_kwargs={"enable_thinking": true}']) == {
        "max_length": 8192, "apply_chat_template_kwargs": {"enable_thinking": True}}


@pytest.mark.parametrize("command", ["score", "generate", "report"])
def test_every_command_refuses_a_bad_data_setting_before_work(command, tmp_path):
    inputs = {"score": ["score", "x.parquet", "--model", "org/m", "--out", str(tmp_path / "o.parquet")],
              "generate": ["generate", "x.parquet", "--model", "org/m", "--out", str(tmp_path / "o.parquet")],
              "report": ["report", "x.parquet", "--model", "org/m", "--out", str(tmp_path / "r")]}[command]
    with pytest.raises(SystemExit, match="--data max_lenght: not a data.* setting; did you mean max_length?"):
        cli(inputs + ["--data", "max_lenght=5"])
