"""`pear-verl`: the command-line front door to the data tools.

Each subcommand lives in the module that implements it (`add_commands(subparsers)`); this file only
collects them, and checks what it can before any work starts: model arguments (`--model`, `--tokenizer`)
must be an existing local folder or look like a hub id (org/name), and a subcommand may
set `check` (a function of the parsed arguments that raises ValueError on values that cannot work; it
touches no file, so the recipes' DRY_RUN runs it too). A user's mistake ends in one line,
`pear-verl: error: ...`, never a traceback. Run `pear-verl --help` (every flag with its default).
The recipes' DRY_RUN parses pear-verl calls with `build_parser()` and `check_values()`
(`pear_verl.recipe.check`).
"""

from __future__ import annotations

import argparse
import sys

from pear_verl import __version__
from pear_verl.behaviour import generate, report, score
from pear_verl.common.io import model_path_problem
from pear_verl.evaluation import compare, evaluate, rl_data

MODEL_ARGS = ("model", "tokenizer")


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help with each flag's default, where there is one to show (not for required flags, None, off or an empty list)."""

    def _get_help_string(self, action):
        if action.required or action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """Every (sub)command's --help shows the defaults (subparsers are made of the parent's class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", DefaultsFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="pear-verl", description="PEAR for verl: data tools")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (rl_data, score, generate, report, evaluate, compare):
        module.add_commands(sub)
    return parser


def check_values(args: argparse.Namespace) -> None:
    """The subcommand's own value checks (no file is read: also run by the recipes' DRY_RUN)."""
    check = getattr(args, "check", None)
    if check is not None:
        check(args)


def check_models(args: argparse.Namespace) -> None:
    for name in MODEL_ARGS:
        value = getattr(args, name, None)
        if isinstance(value, str) and (problem := model_path_problem(value)):
            raise ValueError(f"--{name}: {problem}")


def user_message(err: BaseException) -> str:
    """One line for a user's mistake: no KeyError quotes, no multi-line library messages."""
    if isinstance(err, FileNotFoundError) and err.filename:
        text = f"not found: {err.filename}"
    elif isinstance(err, OSError) and err.filename and err.strerror:
        text = f"{err.filename}: {err.strerror}"
    elif isinstance(err, KeyError) and err.args:
        text = str(err.args[0])
    else:
        text = str(err) or type(err).__name__
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    try:
        check_models(args)
        check_values(args)
        args.func(args)
    except (ValueError, KeyError, OSError) as err:
        sys.exit(f"pear-verl: error: {user_message(err)}")


if __name__ == "__main__":
    main()
