"""verl plugin entry point (`verl.plugins` group): registers the CPU platform when verl is imported.

Why: verl resolves its platform once per process, before any of our code runs in a torchrun rank or
Ray worker. Registering "cpu" here means `VERL_PLATFORM=cpu` works everywhere pear_verl is installed.
Importing this module is cheap and touches no accelerator state; nothing changes unless
`VERL_PLATFORM=cpu` is set.
"""

from pear_verl import cpu  # noqa: F401  (registration happens at import)
