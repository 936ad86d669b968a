"""pear_verl.training.checkpoints: strict loading, merging verl's PEFT-keyed LoRA export, same-data check."""

import json
import shutil

import pytest
import torch
from peft import LoraConfig, PeftModel, TaskType, get_peft_model
from safetensors.torch import load_file, save_file

from pear_verl.demo.tiny import save_tiny_model
from pear_verl.training.checkpoints import IncompleteCheckpoint, describe_mismatch, file_digest, load_causal_lm, merge_lora_export


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def edited_copy(src, dst, edit):
    """A copy of HF folder `src` whose safetensors state dict is `edit(state)`."""
    shutil.copytree(src, dst)
    state = load_file(dst / "model.safetensors")
    save_file(edit(state), dst / "model.safetensors", metadata={"format": "pt"})
    return dst


def ids(seed=0):
    return torch.randint(0, 1000, (2, 12), generator=torch.Generator().manual_seed(seed))


def test_complete_checkpoint_loads(tiny):
    model = load_causal_lm(tiny, torch.float32, "cpu")
    assert not model.training and next(model.parameters()).dtype == torch.float32


def test_missing_tensor_is_refused(tiny, tmp_path):
    bad = edited_copy(tiny, tmp_path / "missing", lambda s: {k: v for k, v in s.items() if k != "model.norm.weight"})
    with pytest.raises(IncompleteCheckpoint, match=rf"^{bad}: weights did not all load: 1 missing keys: model\.norm\.weight$"):
        load_causal_lm(bad, torch.float32)


def test_extra_peft_keys_are_refused(tiny, tmp_path):
    extra = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight"
    bad = edited_copy(tiny, tmp_path / "extra", lambda s: {**s, extra: torch.zeros(4, 32)})
    with pytest.raises(IncompleteCheckpoint, match=rf"^{bad}: .*: 1 unexpected keys: {extra} \(PEFT keys: a LoRA export that pear_verl.sft did not merge\)$"):
        load_causal_lm(bad, torch.float32)


def lora_config():
    return LoraConfig(task_type=TaskType.CAUSAL_LM, r=4, lora_alpha=32, target_modules=["q_proj", "v_proj", "down_proj"], bias="none")


@pytest.fixture
def verl_lora_export(tiny, tmp_path):
    """A folder laid out as verl 0.9.1's hf_model export of a LoRA run (PEFT keys, tied lm_head
    dropped), with non-zero adapters; and the PEFT model it came from (the reference)."""
    base = load_causal_lm(tiny, torch.float32)
    peft_model = get_peft_model(base, lora_config())
    torch.manual_seed(1)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:  # zero at init: make the adapter matter
                param.normal_(std=0.05)
    out = tmp_path / "global_step_2" / "huggingface"
    shutil.copytree(tiny, out)
    state = {k: v.clone() for k, v in peft_model.state_dict().items() if k != "base_model.model.lm_head.weight"}
    (out / "model.safetensors").unlink()
    save_file(state, out / "model.safetensors", metadata={"format": "pt"})
    return out, peft_model.eval()


def test_merged_lora_export_equals_base_plus_adapter(tiny, verl_lora_export):
    hf_dir, reference = verl_lora_export
    config_before = (hf_dir / "config.json").read_text()
    assert merge_lora_export(hf_dir, lora_config(), hf_dir.parent / "lora_adapter", str(tiny))
    merged = load_causal_lm(hf_dir, torch.float32)  # strict: every weight present, no PEFT key
    base = load_causal_lm(tiny, torch.float32)
    with torch.no_grad():
        want, got, before = reference(ids()).logits, merged(ids()).logits, base(ids()).logits
    assert (want - before).abs().max() > 0.05  # the adapter changes the model
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
    # Hand-computed merge of one layer: W + (alpha / r) * B @ A.
    layer = reference.base_model.model.model.layers[1].self_attn.q_proj
    hand = layer.base_layer.weight + 32 / 4 * layer.lora_B["default"].weight @ layer.lora_A["default"].weight
    torch.testing.assert_close(merged.model.layers[1].self_attn.q_proj.weight, hand, rtol=0, atol=1e-6)
    assert (hf_dir / "config.json").read_text() == config_before and (hf_dir / "tokenizer.json").exists()
    assert not list(hf_dir.parent.glob("*.tmp")) and not list(hf_dir.parent.glob("*.old"))
    # The adapter alone, loaded by peft on the base: the same model.
    adapter = hf_dir.parent / "lora_adapter"
    assert json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny)
    with torch.no_grad():
        reloaded = PeftModel.from_pretrained(load_causal_lm(tiny, torch.float32), adapter).eval()(ids()).logits
    torch.testing.assert_close(reloaded, want, rtol=0, atol=1e-5)
    # A second call (already merged) changes nothing.
    assert not merge_lora_export(hf_dir, lora_config(), adapter)


def test_adapter_that_does_not_fit_the_config_is_refused(verl_lora_export):
    hf_dir, _ = verl_lora_export
    other = LoraConfig(task_type=TaskType.CAUSAL_LM, r=4, lora_alpha=32, target_modules=["q_proj"], bias="none")
    with pytest.raises(IncompleteCheckpoint, match=r"\(adapter\): weights did not all load: 8 unexpected keys: .*down_proj.*v_proj.*\(\+5 more\)$"):
        merge_lora_export(hf_dir, other, hf_dir.parent / "lora_adapter")
    assert not (hf_dir.parent / "lora_adapter").exists()


def test_file_digest_is_by_content(tmp_path):
    (tmp_path / "a").write_bytes(b"rows")
    (tmp_path / "b").write_bytes(b"rows")
    (tmp_path / "c").write_bytes(b"rowz")
    a, b, c = (file_digest(str(tmp_path / n)) for n in "abc")
    assert a == b != c and len(a) == 12
    assert file_digest(str(tmp_path / "nope")) == "missing" and file_digest("hdfs://x/train.parquet") == "url"


def view(host, *train):
    return {"host": host, "files": {"train_files": list(train), "val_files": []}}


def test_same_content_under_other_paths_is_the_same_data():
    assert describe_mismatch([view("a", ("/n0/t.parquet", "abc")), view("b", ("/n1/t.parquet", "abc"))]) is None


def test_different_data_names_ranks_hosts_and_files():
    views = [view("a", ("/d/t.parquet", "abc"))] * 2 + [view("b", ("/d/t.parquet", "def"))] + [view("b", ("/d/t.parquet", "missing"))]
    message = describe_mismatch(views)
    assert message == (
        "ranks see different data, every rank must read the same files: "
        "ranks 0,1 (host a): data.train_files=/d/t.parquet (sha256 abc) | "
        "rank 2 (host b): data.train_files=/d/t.parquet (sha256 def) | "
        "rank 3 (host b): data.train_files=/d/t.parquet (sha256 missing)"
    )
    # A different number of files is different data too.
    assert describe_mismatch([view("a", ("/t", "abc")), view("a", ("/t", "abc"), ("/u", "abc"))]) is not None


def test_check_command(tiny, tmp_path, monkeypatch, capsys):
    from pear_verl.training.checkpoints import main

    monkeypatch.setattr("sys.argv", ["checkpoints", "check", str(tiny)])
    main()
    assert capsys.readouterr().out == f"{tiny}: every weight loaded\n"
    bad = edited_copy(tiny, tmp_path / "missing", lambda s: {k: v for k, v in s.items() if "layers.1.mlp" not in k})
    monkeypatch.setattr("sys.argv", ["checkpoints", "check", str(bad)])
    with pytest.raises(SystemExit, match=r"^.*/missing: weights did not all load: 3 missing keys: model\.layers\.1\.mlp\.down_proj\.weight, "):
        main()
