"""Evaluation and verdicts: pass@k of a model on RL prompt files, and whether PEAR beat plain SFT.

`rl_data` writes verl RL prompt parquets (games, math); `evaluate` samples and scores (`pear-verl eval`);
`verdict` + `tdist` turn per-seed, per-puzzle results into a paired difference with a confidence interval
valid for few seeds; `compare` applies it to runs made by the recipes (`pear-verl compare`).
"""
