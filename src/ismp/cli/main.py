"""``ismp`` entry point: a command table of sub-command groups, each module imported only when used."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ismp import __version__
from ismp.errors import IsmpError

# Each module has ``register(subparsers)`` adding its sub-commands; handlers start Django only when run.
COMMAND_MODULES = (
    "ismp.cli.server",
    "ismp.cli.organisations",
    "ismp.cli.users",
    "ismp.cli.inventory",
    "ismp.cli.feeds",
    "ismp.cli.matching",
    "ismp.cli.findings",
    "ismp.cli.workitems",
    "ismp.cli.urgency",
    "ismp.cli.notify",
    "ismp.cli.controls",
    "ismp.cli.drill",
    "ismp.cli.report",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ismp", description="ISMP — Information Security Management Platform")
    parser.add_argument("--version", action="version", version=f"ismp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except IsmpError as exc:
        print(f"ismp: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if type(exc).__module__.startswith("django.db"):
            print(
                f"ismp: database error: {exc}\n  hint: run `ismp setup` to create or migrate the database",
                file=sys.stderr,
            )
            return 3
        raise
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
