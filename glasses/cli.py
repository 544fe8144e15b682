"""Command line: a thin layer over the library. ``main(argv)`` is testable as ``main(shlex.split(cmd))``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .errors import GlassesError

# Each command lives in glasses/commands/<name>.py with ``add_parser(subparsers)``, which sets
# ``func`` on its parser. Heavy imports happen inside the command, never at parser set-up.
COMMANDS = ("run", "detect", "read", "describe", "calibrate", "locate", "bench", "models", "doctor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glasses",
        description="Offline assistant for camera glasses: sees objects and text, says where they are.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as e:
            if e.name and e.name.endswith(f"commands.{name}"):
                continue  # command not built yet
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except GlassesError as e:
        print(f"glasses {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"glasses {args.command}: interrupted", file=sys.stderr)
        return 130
