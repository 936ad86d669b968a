"""Checks the recipes (recipes/*.sh) run before any stage: every setting in one pass (`settings`) and the
planned stages' configs against verl's own (`check`). Called by recipes/lib.sh, not by users.
"""
