"""PEAR inside verl's SFT trainer: the method's math and the verl pieces it plugs into.

Read in this order: `weights` (the log-weights, tensor shapes in the docstrings), `losses` (verl loss
functions built from them), `data` + `chat_tokens` (the dataset with behaviour log-probs, tokenised as the
responses were generated), `trainer` (the thin verl SFT trainer subclass), `checkpoints` (strict loading,
LoRA merge, same-data check). The entry point is `python -m pear_verl.sft`.
"""
