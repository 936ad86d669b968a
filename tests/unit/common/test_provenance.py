"""provenance: what made an output is recorded, compared, and a mismatch refused (never silently reused)."""

import json

import pandas as pd
import pytest

from pear_verl.common.provenance import (
    StaleOutput,
    check_record,
    differences,
    file_fingerprint,
    parts_folder,
    record_of,
    refuse_outputs_equal_to_inputs,
)


def test_fingerprints_are_stable_and_change_with_content(tmp_path):
    path = tmp_path / "a.parquet"
    pd.DataFrame({"x": [1, 2, 3]}).to_parquet(path)
    first = file_fingerprint(path)
    assert file_fingerprint(path) == first
    pd.DataFrame({"x": [1, 2, 4]}).to_parquet(path)
    assert file_fingerprint(path) != first
    text = tmp_path / "a.jsonl"
    text.write_text('{"a": 1}\n')
    before = file_fingerprint(text)
    text.write_text('{"a": 2}\n')
    assert file_fingerprint(text) != before


def test_differences_name_each_changed_key():
    old = {"settings": {"temperature": 1.0, "data_config": {"max_length": 1024}}, "inputs": {"p": "aa"}}
    new = {"settings": {"temperature": 0.7, "data_config": {"max_length": 1024}}, "inputs": {"p": "bb"}}
    assert differences(old, new) == ["inputs.p: 'aa' -> 'bb'", "settings.temperature: 1.0 -> 0.7"]
    assert differences(old, old) == []
    with pytest.raises(StaleOutput, match=r"out\.parquet was made with other settings or inputs \(inputs\.p.*--force"):
        check_record("out.parquet", old, new)


def test_parts_folders_are_reused_only_under_the_same_record(tmp_path):
    source = tmp_path / "in.parquet"
    pd.DataFrame({"x": [1]}).to_parquet(source)
    record = record_of({"seed": 0}, [source])
    folder = parts_folder(tmp_path / "parts", record, force=False)
    (folder / "0.parquet").write_text("chunk")
    assert parts_folder(tmp_path / "parts", record, force=False) == folder and (folder / "0.parquet").exists()
    with pytest.raises(StaleOutput, match="settings.seed: 0 -> 1"):
        parts_folder(tmp_path / "parts", record_of({"seed": 1}, [source]), force=False)
    parts_folder(tmp_path / "parts", record_of({"seed": 1}, [source]), force=True)
    assert not (folder / "0.parquet").exists() and json.loads((folder / "record.json").read_text())["settings"] == {"seed": 1}
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "0.parquet").write_text("chunk of a run that recorded nothing")
    with pytest.raises(StaleOutput, match="unknown provenance"):
        parts_folder(tmp_path / "old", record, force=False)


def test_an_output_that_is_an_input_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is also an input"):
        refuse_outputs_equal_to_inputs([tmp_path / "x" / ".." / "a.parquet"], [tmp_path / "a.parquet"])
