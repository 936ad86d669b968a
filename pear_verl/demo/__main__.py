"""`python -m pear_verl.demo`: run the built-in CPU demo (see `pear_verl.demo.pipeline`)."""

from pear_verl.demo.pipeline import run

run()
