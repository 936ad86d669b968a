"""pear_verl: PEAR importance-weighted SFT for verl (see README.md and ../shared/PEAR.md).

Modules, read in this order: `weights` (the math), `losses` (verl loss functions), `data` (dataset
with behaviour log-probs), `trainer` + `sft` (verl SFT trainer subclass and entry point), `cpu_runtime`
(running verl on CPU), `tiny` (local test models).
"""

__version__ = "0.1.0"
