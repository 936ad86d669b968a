"""The built-in CPU demo (`python -m pear_verl.demo`): tiny local models, a small countdown task, plain SFT
vs PEAR students through identical verl GRPO, and a report with the verdict.

`pipeline` runs the stages, `task` defines the demo's data, `summary` writes report.md and the plots,
`tiny` builds the tiny local models and tokenizers that the demo, the CPU recipe and the tests use
(`python -m pear_verl.demo.tiny DIR`).
"""
