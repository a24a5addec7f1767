"""Entry point: no arguments (or a folder) opens the app; a subcommand runs the CLI."""

from __future__ import annotations

import multiprocessing
import sys

from faceorganizer.cli import COMMANDS, run_cli


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # the scan's process pool inside a frozen bundle
    args = sys.argv[1:] if argv is None else argv
    if args and (args[0] in COMMANDS or args[0] in ("-h", "--help", "--version", "--self-test")):
        return run_cli(args)
    from faceorganizer.ui.app import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
