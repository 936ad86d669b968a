"""`pear-verl`: the command-line front door to the data tools.

Each subcommand lives in the module that implements it (`add_commands(subparsers)`); this file only
collects them. Run `pear-verl --help`. The recipes' DRY_RUN parses pear-verl calls with `build_parser()`
(`pear_verl.recipe_check`).
"""

from __future__ import annotations

import argparse
import sys

from pear_verl import compare, evaluate, generate, report, rl_data, score


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pear-verl", description="PEAR for verl: data tools")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (rl_data, score, generate, report, evaluate, compare):
        module.add_commands(sub)
    return parser


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, KeyError, FileNotFoundError) as err:
        sys.exit(f"pear-verl: error: {err}")


if __name__ == "__main__":
    main()
