"""`pear-verl compare` with several runs (seeds) per arm: arms parsed from name=folder pairs and globs,
duplicates and unpaired arms refused, and the verdicts equal to the demo's on the same eval results."""

import json

import numpy as np
import pytest

from pear_verl.cli import main
from pear_verl.demo.summary import verdicts
from pear_verl.evaluation.compare import compare, parse_arms

N, PUZZLES = 4, 30


def write_run(folder, counts, n=N):
    """A `pear-verl eval` results.json for one benchmark with these correct counts per puzzle."""
    counts = [int(c) for c in counts]
    bench = {"file": "test.parquet", "problems": len(counts), "n": n, "pass@1": float(np.mean(counts)) / n,
             "pass@4": float(np.mean([c > 0 for c in counts])), "correct_per_problem": counts}
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps({"model": "m", "settings": {}, "benchmarks": {"countdown": bench}}))
    return bench


@pytest.fixture
def runs(tmp_path):
    """3 seeds per arm, pear better by about one correct sample in four puzzles; folders s2 < s10 numerically."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, N + 1, PUZZLES)
    results = {}
    for arm, lift in (("sft", 0), ("pear", 1)):
        for seed in (1, 2, 10):
            counts = np.clip(base + rng.integers(-1, 2, PUZZLES) + lift * (rng.random(PUZZLES) < 0.25), 0, N)
            results[arm, seed] = write_run(tmp_path / f"{arm}_s{seed}" / "eval_rl", counts)
    return tmp_path, results


def test_globs_and_repeated_names_keep_seed_order(runs):
    root, _ = runs
    arms = parse_arms([f"sft={root}/sft_s*/eval_rl", f"pear={root}/pear_s1/eval_rl", f"pear={root}/pear_s2/eval_rl", f"pear={root}/pear_s10/eval_rl"])
    assert arms["sft"] == [f"{root}/sft_s{s}/eval_rl" for s in (1, 2, 10)]  # numbers sort as numbers
    assert arms["pear"] == [f"{root}/pear_s{s}/eval_rl" for s in (1, 2, 10)]


def test_a_run_given_twice_is_refused(runs):
    root, _ = runs
    with pytest.raises(ValueError, match="given twice"):
        parse_arms([f"a={root}/sft_s1/eval_rl", f"a={root}/sft_s1/eval_rl/../eval_rl"])
    with pytest.raises(ValueError, match="given twice"):
        parse_arms([f"a={root}/sft_s*/eval_rl", f"b={root}/sft_s2/eval_rl"])
    with pytest.raises(ValueError, match="no results folder matches"):
        parse_arms([f"a={root}/nothing_*"])
    with pytest.raises(ValueError, match="expected name=results_folder"):
        parse_arms([f"{root}/sft_s1/eval_rl"])


def test_verdicts_over_seeds_are_the_demos(runs, tmp_path):
    root, results = runs
    table = compare(parse_arms([f"sft={root}/sft_s*/eval_rl", f"pear={root}/pear_s*/eval_rl"]), str(tmp_path / "cmp"))
    evals = {arm: {"rl": {s: results[arm, s] for s in (1, 2, 10)}, "sft": {s: results[arm, s] for s in (1, 2, 10)}} for arm in ("sft", "pear")}
    demo = verdicts(evals, ["sft", "pear"], ["pass@1", "pass@4"])  # post-RL lines first
    for line, metric in zip(demo[:2], ["pass@1", "pass@4"]):
        assert f"- pear − sft countdown {metric}" + line.split(f"PEAR − SFT post-RL {metric}")[1] in table
    assert "(3 seeds × 30 puzzles)" in demo[0]
    sft1 = [results["sft", s]["pass@1"] * 100 for s in (1, 2, 10)]
    assert f"| countdown | pass@1 | {np.mean(sft1):.1f} ± {np.std(sft1, ddof=1):.1f} (3) |" in table
    saved = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert [(v["treatment"], v["control"], v["metric"]) for v in saved["verdicts"]] == [("pear", "sft", "pass@1"), ("pear", "sft", "pass@4")]
    assert saved["verdicts"][0]["seeds"] == 3 and saved["verdicts"][0]["puzzles"] == PUZZLES
    assert (tmp_path / "cmp" / "compare.png").read_bytes()[:4] == b"\x89PNG"


def test_what_not_every_run_has_is_named(runs, tmp_path):
    root, results = runs
    extra = tmp_path / "extra"
    bench = dict(results["pear", 1], n=8, **{"pass@8": 0.5})
    extra.mkdir()
    (extra / "results.json").write_text(json.dumps({"benchmarks": {"countdown": bench, "aime": bench}}))
    table = compare({"sft": [f"{root}/sft_s1/eval_rl"], "pear": [str(extra)]}, str(tmp_path / "cmp"))
    assert "Not in every run, left out: aime, pass@8" in table and "| countdown | pass@4 |" in table


def test_unpaired_arms_and_bad_files_are_refused(runs, tmp_path):
    root, _ = runs
    with pytest.raises(ValueError, match="equally many runs"):
        compare(parse_arms([f"sft={root}/sft_s*/eval_rl", f"pear={root}/pear_s1/eval_rl"]), str(tmp_path / "x"))
    with pytest.raises(ValueError, match="--control 'base' is not one of"):
        compare(parse_arms([f"sft={root}/sft_s1/eval_rl", f"pear={root}/pear_s1/eval_rl"]), str(tmp_path / "x"), control="base")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.json").write_text("{")
    with pytest.raises(ValueError, match="bad/results.json: not a pear-verl eval results file"):
        compare({"sft": [str(tmp_path / "bad")], "pear": [f"{root}/pear_s1/eval_rl/results.json"]}, str(tmp_path / "x"))
    with pytest.raises(FileNotFoundError, match="not found: .*missing/results.json"):
        compare({"sft": [str(tmp_path / "missing")], "pear": [f"{root}/pear_s1/eval_rl"]}, str(tmp_path / "x"))


def test_one_run_per_arm_still_compares(runs, tmp_path, capsys):
    root, results = runs
    main(["compare", f"sft={root}/sft_s1/eval_rl/results.json", f"pear={root}/pear_s1/eval_rl", "--out", str(tmp_path / "one")])
    table = (tmp_path / "one" / "compare.md").read_text()
    assert "left out" not in table
    assert f"| countdown | pass@1 | {100 * results['sft', 1]['pass@1']:.1f} | {100 * results['pear', 1]['pass@1']:.1f} |" in table
    assert "(1 seed): no seed spread to judge it against" in table
    with pytest.raises(SystemExit, match="given twice"):
        main(["compare", f"a={root}/sft_s1/eval_rl", f"a={root}/sft_s1/eval_rl", "--out", str(tmp_path / "two")])
