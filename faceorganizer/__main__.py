"""Entry point: no arguments (or a folder) opens the app; a subcommand runs the CLI.

A word that is neither a command nor an existing folder is a mistyped command: the CLI
says so, instead of the app starting (and failing where there is no display)."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

from faceorganizer.cli import COMMANDS, run_cli


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # the scan's process pool inside a frozen bundle
    args = sys.argv[1:] if argv is None else argv
    if args and (args[0] in COMMANDS or args[0] in ("-h", "--help", "--version", "--self-test")):
        return run_cli(args)
    if args and not args[0].startswith("-") and not Path(args[0]).exists():
        return run_cli(args)  # a mistyped command, not a folder: argparse says so (exit 2)
    from faceorganizer.ui.app import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
