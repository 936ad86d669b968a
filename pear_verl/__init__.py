"""pear_verl: PEAR importance-weighted SFT for verl, and what a PEAR-then-RL run needs around it.

Parts, read in this order: `training` (the method inside verl's SFT trainer; entry point `sft`),
`behaviour` (behaviour log-probs: score, generate, report), `evaluation` (pass@k and verdicts),
`cpu_runtime` (verl and vLLM on a CPU), `demo` (the built-in CPU demo and tiny models), `recipe` (the
recipes' checks), `common` (files, checks, provenance, Ray shards). Entry points: `cli` (`pear-verl`),
`sft` (`python -m pear_verl.sft`), `plugin` (verl.plugins). See README.md and docs/.
"""

__version__ = "0.1.0"
