"""The math checker's packaging: every extra pyproject.toml asks for exists in the installed distribution's
own metadata (PEP 685 names: `antlr4_9_3` is `antlr4-9-3`), and the ANTLR runtime is the one the LaTeX
parser was generated for (latex2sympy2_extended ships one generated parser per ANTLR version)."""

import re
import tomllib
from importlib.metadata import metadata, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]


def test_every_requested_extra_is_declared_by_the_installed_distribution():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for req in map(Requirement, deps):
        declared = {canonicalize_name(e) for e in metadata(req.name).get_all("Provides-Extra") or []}
        missing = {canonicalize_name(e) for e in req.extras} - declared
        assert not missing, f"{req.name} declares no extra(s) {missing}; it declares {sorted(declared)}"


def test_antlr_runtime_matches_the_math_verify_extra():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (math_verify,) = [Requirement(d) for d in deps if Requirement(d).name == "math-verify"]
    (extra,) = math_verify.extras
    wanted = ".".join(re.fullmatch(r"antlr(\d+)_(\d+)_(\d+)", extra).groups())
    assert version("antlr4-python3-runtime") == wanted
