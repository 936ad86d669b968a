"""What made an output: its settings and inputs, recorded with it, so a rerun reuses only what still fits.

Why: `score` and `generate` resume from finished files and chunks. Reusing them is right after a crash and
wrong after the settings changed (another model, temperature, data config, input file): that mixes data
from two runs under the new run's name. Each job writes a record (settings + input fingerprints) beside its
parts and into its output's metadata; a rerun compares, reuses on a match, and otherwise refuses, naming
what differs, until the user passes `--force` (redo) or another `--out`.

Run: used by `pear_verl.behaviour.score` and `pear_verl.behaviour.generate`; tests in `tests/unit/common/test_provenance.py`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Iterable

import pyarrow.parquet as pq


class StaleOutput(ValueError):
    """An existing output or part folder was made by other settings or inputs."""


def file_fingerprint(path: str | Path) -> str:
    """16 hex chars from a file's size and, for parquet, its footer (schema, row groups, column statistics);
    other files are hashed whole. Cheap for large parquet files, and changes whenever their content does
    in practice (a rewrite changes offsets and statistics)."""
    path = Path(path)
    digest = hashlib.sha256(str(path.stat().st_size).encode())
    if path.suffix == ".parquet":
        meta = pq.ParquetFile(path).metadata
        digest.update(meta.schema.to_arrow_schema().to_string(show_schema_metadata=True).encode())
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            digest.update(f"{group.num_rows}/{group.total_byte_size}".encode())
            for c in range(group.num_columns):
                column = group.column(c)
                stats = column.statistics.to_dict() if column.statistics is not None else None
                digest.update(f"{column.data_page_offset}/{column.total_compressed_size}/{stats}".encode())
    else:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def record_of(settings: dict, inputs: Iterable[str | Path]) -> dict:
    """The record a job keeps: its settings (JSON values) and a fingerprint per input file."""
    return {"settings": json.loads(json.dumps(settings)), "inputs": {str(p): file_fingerprint(p) for p in inputs}}


def differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Human-readable `key: old -> new` lines between two records."""
    lines = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            lines += differences(a, b, f"{prefix}{key}.")
        elif a != b:
            lines.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return lines


def refuse_outputs_equal_to_inputs(outputs: Iterable[str | Path], inputs: Iterable[str | Path]) -> None:
    ins = {Path(p).resolve() for p in inputs}
    for out in outputs:
        if Path(out).resolve() in ins:
            raise ValueError(f"--out {out} is also an input: it would be overwritten; write to another file")


def check_record(what: str | Path, old: dict, new: dict) -> None:
    """Raise `StaleOutput` when `old` (what an existing output was made with) differs from `new`."""
    diff = differences(old, new)
    if diff:
        shown = "; ".join(diff[:6]) + (f"; and {len(diff) - 6} more" if len(diff) > 6 else "")
        raise StaleOutput(f"{what} was made with other settings or inputs ({shown}): pass --force to redo it, or use another --out")


def parts_folder(folder: Path, record: dict, force: bool) -> Path:
    """Create or reuse a resumable folder of parts made under `record`; with `force`, start it afresh."""
    stamp = folder / "record.json"
    if force and folder.exists():
        shutil.rmtree(folder)
    if stamp.exists():
        check_record(folder, json.loads(stamp.read_text()), record)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        if any(p.name != stamp.name for p in folder.iterdir()):
            raise StaleOutput(f"{folder} holds parts of unknown provenance: pass --force to redo them")
        tmp = stamp.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1))
        tmp.replace(stamp)
    return folder
