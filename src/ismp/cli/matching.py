"""``ismp match``: match registered systems against the vulnerabilities ISMP knows, as findings."""

from __future__ import annotations

import argparse
from typing import Any

from ismp.cli.common import add_json, emit, err, setup_django


def register(sub: Any) -> None:
    p = sub.add_parser("match", help="match systems against known vulnerabilities and update their findings")
    p.add_argument("--system", action="append", metavar="NAME", help="only this system (repeatable)")
    p.add_argument("--full", action="store_true", help="every system (the default when no --system is given)")
    add_json(p)
    p.set_defaults(handler=cmd_match)


def cmd_match(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.findings.services import match_systems
    from ismp.apps.inventory.models import System
    from ismp.errors import NotFound

    ids = None
    if args.system and not args.full:
        found = dict(System.objects.filter(name__in=args.system).values_list("name", "pk"))
        missing = sorted(set(args.system) - set(found))
        if missing:
            raise NotFound(f"no system named {', '.join(repr(m) for m in missing)}")
        ids = list(found.values())
    with err.status("Matching…") as status:
        report = match_systems(ids, progress=lambda text: status.update(f"Matching: {text}…"))
    d = report.as_dict()
    emit(
        d,
        args.json,
        f"{d['systems']:,} systems: findings {d['findings_new']:,} new "
        f"({d['needs_confirmation']:,} need confirmation), "
        f"{d['findings_updated']:,} updated, {d['findings_reopened']:,} reopened, {d['findings_closed']:,} closed, "
        f"{d['findings_unchanged']:,} unchanged.",
    )
    return 0
