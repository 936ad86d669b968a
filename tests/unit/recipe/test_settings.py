"""pear_verl.recipe.settings: every recipe variable's value, sizes that cannot work together, and typos of variable
names are refused, each naming the variable; every problem at once. The defaults below are the ones
`recipes/qwen3_pear.sh` defines (read from the file, so they cannot drift)."""

import json
import re
from pathlib import Path

import pytest

from pear_verl.recipe.settings import check_settings

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "qwen3_pear.sh"


def defaults() -> dict[str, str]:
    """NAME -> default of every `: "${NAME:=default}"` in the recipe (defaults without expansions)."""
    found = dict(re.findall(r'\$\{([A-Z][A-Z0-9_]*):=([^}$]*)\}', RECIPE.read_text()))
    assert {"GAMMA", "SFT_EPOCHS", "EVAL_K", "DEVICE"} <= found.keys()
    return found


def problems(environ=None, **changes) -> list[str]:
    settings = {**defaults(), **changes}
    return check_settings([f"{k}={v}" for k, v in settings.items()], environ or {})


def test_the_recipe_defaults_pass():
    assert problems() == []


@pytest.mark.parametrize(
    "name,value,message",
    [
        ("VARIANT", "foo", "VARIANT='foo': must be one of sequence, token, block"),
        ("SFT_OBJECTIVE", "foo", "SFT_OBJECTIVE='foo': must be one of pear, sft"),
        ("DEVICE", "gpu", "DEVICE='gpu': must be one of cuda, cpu"),
        ("GAMMA", "2", "GAMMA=2.0: must be in (0, 1]"),
        ("GAMMA", "0", "GAMMA=0.0: must be in (0, 1]"),
        ("GAMMA", "abc", "GAMMA='abc': must be a number in (0, 1]"),
        ("BLOCK_SIZE", "2.5", "BLOCK_SIZE='2.5': must be an integer >= 1"),
        ("RATIO_CLIP", "[0.3,-0.08]", "RATIO_CLIP=[0.3, -0.08]: must be [lo, hi] with lo <= hi"),
        ("LOG_WEIGHT_CLIP", "[-10", "LOG_WEIGHT_CLIP='[-10': must be [lo, hi]"),
        ("SELF_NORMALIZE", "yes", "SELF_NORMALIZE='yes': must be true or false"),
        ("DUMP_ROLLOUTS", "yes", "DUMP_ROLLOUTS='yes': must be true or false"),  # was treated as false
        ("ENFORCE_EAGER", "True", "ENFORCE_EAGER='True': must be true or false"),
        ("GEN_TEMPERATURE", "-1", "GEN_TEMPERATURE=-1.0: must be > 0"),
        ("GEN_N", "0", "GEN_N=0: must be >= 1"),
        ("SFT_EPOCHS", "two", "SFT_EPOCHS='two': must be an integer >= 1"),
        ("SFT_LR", "nan", "SFT_LR=nan: must be a number > 0"),
        ("GPU_MEMORY_UTILIZATION", "1.5", "GPU_MEMORY_UTILIZATION=1.5: must be in (0, 1]"),
        ("EVAL_TOP_P", "0", "EVAL_TOP_P=0.0: must be in (0, 1]"),
        ("EVAL_K", "1 x", "EVAL_K='x': must be an integer >= 1"),
        ("EVAL_K", "1 128", "EVAL_K: pass@128 needs k <= EVAL_N=64"),
        ("STUDENT", "/nowhere", "STUDENT=/nowhere: not found: /nowhere"),
        ("TEACHER", "./local/teacher/model", "TEACHER=./local/teacher/model: not found"),
    ],
)
def test_bad_values_are_named(name, value, message):
    found = problems(**{name: value})
    assert len(found) == 1 and found[0].startswith(message), found


def test_hub_ids_are_left_to_the_hub_and_local_folders_must_exist(tmp_path):
    assert problems(STUDENT="Qwen/Qwen3-8B", TEACHER="my-org/teacher-7b") == []
    (tmp_path / "student").mkdir()
    assert problems(STUDENT=str(tmp_path / "student")) == []


@pytest.mark.parametrize(
    "changes,message",
    [
        # issue 18: a 16K-token teacher response cannot be trained with SFT_MAX_LENGTH=8192
        ({"GEN_MAX_NEW_TOKENS": "16384"}, "MAX_PROMPT_LENGTH + GEN_MAX_NEW_TOKENS = 1024 + 16384 = 17408 > SFT_MAX_LENGTH=8192"),
        ({"SFT_MAX_LENGTH": "20480"}, "SFT_MAX_LENGTH=20480 > SFT_TOKENS_PER_GPU=16384: verl's dynamic batching"),
    ],
)
def test_sizes_that_cannot_work_together_are_named(changes, message):
    found = problems(**changes)
    assert len(found) == 1 and found[0].startswith(message)


def test_consistent_long_trace_sizes_pass():
    assert problems(GEN_MAX_NEW_TOKENS="16384", SFT_MAX_LENGTH="20480", SFT_TOKENS_PER_GPU="20480") == []


def test_lengths_beyond_a_local_models_context_are_named(tmp_path):
    model = tmp_path / "student"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"max_position_embeddings": 4096}))
    found = problems(STUDENT=str(model))
    assert found == [f"MAX_PROMPT_LENGTH + MAX_RESPONSE_LENGTH = 5120 > STUDENT's context length "
                     f"(max_position_embeddings=4096 in {model}/config.json)"]


def test_unknown_variables_with_the_recipes_prefixes_are_refused():
    environ = {"SFT_EPOCH": "2", "GEN_TEMP": "0.5", "GRPO_FOO": "1", "MAX_RESPONSE_LEN": "8", "MAX_JOBS": "4",
               "PATH": "/bin", "HOME": "/h", "SFT_EPOCHS": "2", "CUDA_VISIBLE_DEVICES": "0", "MASTER_PORT": "1"}
    assert problems(environ) == [
        "GEN_TEMP: not a setting of this recipe",
        "GRPO_FOO: not a setting of this recipe",
        "MAX_RESPONSE_LEN: not a setting of this recipe; did you mean MAX_RESPONSE_LENGTH?",
        "SFT_EPOCH: not a setting of this recipe; did you mean SFT_EPOCHS?",
    ]


def test_every_problem_is_reported_at_once():
    found = problems({"SFT_EPOCH": "2"}, VARIANT="foo", GAMMA="2", GEN_N="0", DUMP_ROLLOUTS="yes", GEN_MAX_NEW_TOKENS="16384")
    assert [p.split(":")[0].split("=")[0].strip() for p in found] == ["VARIANT", "GAMMA", "GEN_N", "DUMP_ROLLOUTS", "MAX_PROMPT_LENGTH + GEN_MAX_NEW_TOKENS",
                                                              "SFT_EPOCH"]
