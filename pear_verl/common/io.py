"""Small file helpers shared by the data tools and the demo: atomic parquet/JSON writes, tabular readers,
checks of user-given paths, and running a training job with its logs kept in its run folder.

Why: every long job here must leave either the old file or the complete new one, never half a file
(a killed job is rerun, and readers must not see partial output). Written files get the mode a plain
`open()` would give (0666 less the umask), so teammates on shared storage can read them. Readers name the
file (and line) they could not read, so a bad input is a one-line error, not a traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows (/proc), else set and restored."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path next to `path`; on success it replaces `path` in one rename. The file gets
    the mode `open()` would give it (mkstemp's is 0600: unreadable to the group on shared storage)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; a file is expected there")
    above = next(p for p in path.absolute().parents if p.exists())
    if not above.is_dir():
        raise NotADirectoryError(f"{above} is a file; a folder is expected there (to hold {path})")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, 0o666 & ~current_umask())
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


def require_file(path: str | Path) -> Path:
    """`path` as a Path if it is an existing file; else a one-line ValueError ("not found: PATH")."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"not found: {path}")
    if not path.is_file():
        raise ValueError(f"{path}: a file is expected, got a folder")
    return path


def read_table(path: str | Path) -> pd.DataFrame:
    """A parquet, JSONL or JSON-array file as a DataFrame (by extension). JSON values are kept exactly as
    written (pandas' own JSON reader turns null into NaN and 5 into 5.0 next to a null); a file that cannot
    be read, or has no rows, is a ValueError naming it (and the line, for JSONL)."""
    path = require_file(path)
    if path.suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as err:  # pyarrow's errors do not name the file
            raise ValueError(f"{path}: not a readable parquet file ({type(err).__name__}: {err})") from None
    elif path.suffix in (".jsonl", ".ndjson", ".json"):
        frame = pd.DataFrame(_json_records(path), dtype=object)  # keep 5 an int next to a null
    else:
        raise ValueError(f"{path}: unsupported file type (use .parquet, .jsonl or .json)")
    if frame.empty:
        raise ValueError(f"{path}: no rows")
    return frame


def _json_records(path: Path) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    if path.suffix == ".json":
        try:
            records = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON: {err}") from None
        if not isinstance(records, list):
            raise ValueError(f"{path}: a JSON array of objects is expected, got {type(records).__name__}")
        lines = range(len(records))
    else:
        records, lines = [], []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}: line {number}: not valid JSON: {err}") from None
                lines.append(number)
    for where, record in zip(lines, records):
        if not isinstance(record, dict):
            place = f"line {where}" if path.suffix != ".json" else f"item {where}"
            raise ValueError(f"{path}: {place}: a JSON object is expected, got {type(record).__name__}")
    return records


HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


def model_path_problem(value: str) -> str | None:
    """Why `value` cannot name a model (None if it can): a local folder must exist; a name that is not a
    local path but looks like a hub id (org/name) is left to the hub."""
    path = Path(value).expanduser()
    if path.exists():
        return None if path.is_dir() else f"{value} is a file; a model folder or a hub id (org/name) is expected"
    if HUB_ID.fullmatch(value) and ".." not in value:
        return None
    return f"not found: {value} (no such local model folder, and not a hub id of the form org/name)"


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
