"""io: written files follow the umask; readers name the file (and line) they cannot read; model names."""

import os
import stat

import pandas as pd
import pytest

from pear_verl.common import io
from pear_verl.common.io import read_table, write_json_atomic, write_parquet_atomic


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
@pytest.mark.parametrize("write", ["json", "parquet"])
def test_written_files_follow_the_umask(tmp_path, umask, mask, write):
    umask(mask)
    path = tmp_path / f"out.{write}"
    if write == "json":
        write_json_atomic({"a": 1}, path)
    else:
        write_parquet_atomic(pd.DataFrame({"a": [1]}), path)
    plain = tmp_path / "plain"
    plain.write_text("x")  # what open() gives under this umask: the reference
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~mask


def test_an_output_path_of_the_wrong_kind_is_named(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(NotADirectoryError, match="afile is a file; a folder is expected"):
        write_json_atomic({}, tmp_path / "afile" / "out.json")
    with pytest.raises(IsADirectoryError, match="is a folder; a file is expected"):
        write_json_atomic({}, tmp_path)


@pytest.mark.parametrize(
    "name,text,message",
    [
        ("missing.jsonl", None, "not found: .*missing.jsonl"),
        ("empty.jsonl", "", "empty.jsonl: no rows"),
        ("blank.jsonl", "\n\n", "blank.jsonl: no rows"),
        ("bad.jsonl", '{"a": 1}\n{"a": 2,,}\n', "bad.jsonl: line 2: not valid JSON"),
        ("scalar.jsonl", '{"a": 1}\n5\n', "scalar.jsonl: line 2: a JSON object is expected"),
        ("bad.json", '[{"a": 1}', "bad.json: not valid JSON"),
        ("object.json", '{"a": 1}', "object.json: a JSON array of objects is expected"),
        ("empty.json", "[]", "empty.json: no rows"),
        ("bad.parquet", "not parquet", "bad.parquet: not a readable parquet file"),
        ("latin1.jsonl", b'{"a": "caf\xe9"}\n', "latin1.jsonl: not UTF-8 text"),
        ("table.csv", "a\n1\n", "unsupported file type"),
    ],
)
def test_unreadable_inputs_are_one_line_errors_naming_the_file(tmp_path, name, text, message):
    path = tmp_path / name
    if text is not None:
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ValueError, match=message) as err:
        read_table(path)
    assert "\n" not in str(err.value)


def test_json_values_are_read_as_written(tmp_path):
    # pandas' JSON reader makes [5, null] a float column (5.0, nan); the math data needs 5 and None.
    path = tmp_path / "a.jsonl"
    path.write_text('{"x": 5}\n{"x": null}\n')
    assert list(read_table(path)["x"]) == [5, None]


@pytest.mark.parametrize(
    "value,ok",
    [("Qwen/Qwen3-8B", True), ("org/name-1.5B", True), ("/nowhere/model", False), ("./nope", False), ("nope", False),
     ("a/b/c", False), ("../x/y", False), ("runs/x/global_step_1/huggingface", False)],
)
def test_model_names_are_local_folders_or_hub_ids(value, ok, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (io.model_path_problem(value) is None) == ok


def test_an_existing_local_model_folder_is_accepted_and_a_file_is_not(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "results.json").write_text("{}")
    assert io.model_path_problem(str(tmp_path / "model")) is None
    assert "is a file" in io.model_path_problem(str(tmp_path / "results.json"))
