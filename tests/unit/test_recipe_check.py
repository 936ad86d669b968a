"""recipe_check: the recipes' DRY_RUN plan survives any argument, and bad calls are reported by stage."""

import subprocess
from pathlib import Path

from pear_verl.recipe_check import check_plan, read_plan

ROOT = Path(__file__).resolve().parents[2]
TRICKY = ["with space", "trailing space ", "café", "line\nbreak", "", "$HOME", "'quoted'", "a\\b"]


def record(plan: Path, *calls: list[str]) -> None:
    """Record calls with recipes/lib.sh's own `plan` function."""
    script = f'source "{ROOT / "recipes" / "lib.sh"}"; PLAN="$1"; shift; plan "$@"'
    for call in calls:
        subprocess.run(["bash", "-c", script, "bash", str(plan), *call], check=True)


def test_any_argument_survives_the_plan_file(tmp_path):
    plan = tmp_path / "plan"
    calls = [["stage/a", "pear-verl", *TRICKY], ["b", "module", "json"]]
    record(plan, *calls)
    assert read_plan(str(plan)) == calls


def test_every_bad_call_is_reported_with_its_stage(tmp_path):
    plan = tmp_path / "plan"
    record(plan, ["ok", "module", "json"], ["gen", "pear-verl", "generate", "x", "--keep", "sometimes"],
           ["sft", "verl", "pear_verl.sft", "pear.varaint=block"], ["what", "module", "no_such_module_here"])
    errors = check_plan(str(plan))
    assert [e.split(":")[0] for e in errors] == ["recipe"] * 3
    assert [e.split(": ")[1] for e in errors] == ["stage gen", "stage sft", "stage what"]
    assert "invalid choice: 'sometimes'" in errors[0] and "varaint" in errors[1] and "no_such_module_here" in errors[2]
