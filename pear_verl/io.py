"""Small file helpers shared by the data tools and the demo: atomic parquet/JSON writes, tabular readers,
and running a training job with its logs kept in its run folder.

Why: every long job here must leave either the old file or the complete new one, never half a file
(a killed job is rerun, and readers must not see partial output).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path next to `path`; on success it replaces `path` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_parquet_atomic(frame: pd.DataFrame, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_json_atomic(data, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def read_table(path: str | Path) -> pd.DataFrame:
    """A parquet, JSONL or JSON-array file as a DataFrame (by extension)."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix in (".jsonl", ".ndjson"):
        return pd.read_json(path, lines=True)
    if path.suffix == ".json":
        return pd.read_json(path)
    raise ValueError(f"{path}: unsupported file type (use .parquet, .jsonl or .json)")


def write_table_atomic(table: pa.Table, path: str | Path, key: bytes, record: dict) -> None:
    """Write a parquet table with `record` (JSON, plus the pear_verl version) under schema metadata
    `key`, keeping the table's other metadata except pandas' (stale once columns were edited)."""
    from pear_verl import __version__

    meta = {k: v for k, v in (table.schema.metadata or {}).items() if k != b"pandas"}
    meta[key] = json.dumps({**record, "pear_verl": __version__}).encode()
    with atomic_path(path) as tmp:
        pq.write_table(table.replace_schema_metadata(meta), tmp)


def read_json_metadata(path: str | Path, key: bytes) -> dict:
    """The JSON record `write_table_atomic` stored under `key` ({} if absent)."""
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[key]) if key in meta else {}


class JobFailed(RuntimeError):
    """A training job exited non-zero; the message names its log."""


def run_logged(cmd: list[str], run_dir: Path, env: dict[str, str]) -> None:
    """Run a verl entry point in `run_dir`: output to `run_dir/train.log`, metrics (verl's file logger)
    to `run_dir/metrics.jsonl`; raises `JobFailed` naming the log if it fails."""
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **env, "VERL_FILE_LOGGER_PATH": str(run_dir / "metrics.jsonl")}
    with open(run_dir / "train.log", "w") as out:
        proc = subprocess.run(cmd, cwd=run_dir, env=env, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise JobFailed(f"training failed (exit {proc.returncode}); see {run_dir / 'train.log'}")
