"""``ismp report``: the bottom line as a file — weekly status per organisation, or the CISO summary.

    ismp report weekly --organisation CODE --format xlsx|pdf -o FILE
    ismp report ciso --format xlsx|pdf -o FILE

Scoped with ``--as USER`` like every command; without it the local operator sees the whole company.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ismp.cli.common import add_as, cli_actor, err, scoped_user, setup_django

FORMATS = ("xlsx", "pdf")


def register(sub: Any) -> None:
    group = sub.add_parser("report", help="bottom-line reports (ボトムライン) as XLSX or PDF").add_subparsers(
        dest="report_command", metavar="REPORT", required=True
    )
    p = group.add_parser("weekly", help="weekly status of one organisation and everything below it")
    p.add_argument("--organisation", required=True, metavar="CODE", help="the organisation's code")
    _common(p)
    p.set_defaults(handler=cmd_report, kind="weekly")

    p = group.add_parser("ciso", help="the CISO summary: the whole company's bottom line")
    _common(p)
    p.set_defaults(handler=cmd_report, kind="ciso", organisation="")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", dest="fmt", choices=FORMATS, default="xlsx")
    p.add_argument("--output", "-o", type=Path, required=True, help="file to write")
    add_as(p)


def cmd_report(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.dashboard.reports import build_report, write_report

    user = scoped_user(cli_actor(args.as_user))
    report = build_report(user, args.kind, organisation=args.organisation)
    with args.output.open("wb") as stream:
        write_report(report, args.fmt, stream)
    err.print(f"wrote {args.output} ({args.output.stat().st_size} bytes): {report.title}")
    return 0
