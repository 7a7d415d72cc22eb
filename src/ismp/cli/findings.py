"""``ismp findings``: list, export, VEX and decisions on findings, scoped with ``--as USER``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ismp.cli.common import add_as, add_json, cli_actor, emit, err, scoped_user, setup_django

STATES = ("open", "closed", "not_affected")
CONFIDENCES = ("high", "medium", "low")
JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)


def register(sub: Any) -> None:
    group = sub.add_parser("findings", help="list, export and decide on findings; per-system VEX").add_subparsers(
        dest="findings_command", metavar="COMMAND", required=True
    )
    p = group.add_parser("list", help="list the findings you may see")
    _add_filters(p)
    p.add_argument("--needs-confirmation", action="store_true", help="only the CSIRT's confirmation queue")
    p.add_argument("--limit", type=int, default=100, help="at most this many rows (default 100; 0: all)")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_list)

    p = group.add_parser("export", help="export the findings you may see as JSON, CSV or XLSX")
    p.add_argument("--format", dest="fmt", choices=("json", "csv", "xlsx"), default="csv")
    _add_filters(p)
    p.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    add_as(p)
    p.set_defaults(handler=cmd_export)

    p = group.add_parser("vex", help="one system's VEX: CycloneDX 1.6 or OpenVEX 0.2.0 JSON")
    p.add_argument("--system", required=True, metavar="NAME")
    p.add_argument("--format", dest="fmt", choices=("cyclonedx", "openvex"), default="cyclonedx")
    p.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    add_as(p)
    p.set_defaults(handler=cmd_vex)

    p = group.add_parser("decide", help="mark a finding not affected, reopen it, or confirm a low-confidence match")
    p.add_argument("finding", type=int, metavar="FINDING", help="the finding's id (see `ismp findings list`)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--not-affected", choices=JUSTIFICATIONS, metavar="JUSTIFICATION", help=", ".join(JUSTIFICATIONS))
    what.add_argument("--reopen", action="store_true", help="undo a not-affected decision")
    what.add_argument("--confirm", action="store_true", help="confirm a low-confidence match (CSIRT)")
    p.add_argument("--note", default="", help="why (required with --not-affected)")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_decide)


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--system", metavar="NAME", help="only this system")
    p.add_argument("--organisation", metavar="CODE", help="only systems of this organisation")
    p.add_argument("--state", choices=STATES)
    p.add_argument("--confidence", choices=CONFIDENCES)
    p.add_argument("--vuln", metavar="ID", help="only this vulnerability (CVE-…)")
    p.add_argument("--search", metavar="TEXT", help="text in the vulnerability, system, component or criterion")


def _filters(args: argparse.Namespace) -> dict[str, str]:
    values = {
        "system": args.system,
        "organisation": args.organisation,
        "state": args.state,
        "confidence": args.confidence,
        "vuln": args.vuln,
        "q": args.search,
        "needs_confirmation": "1" if getattr(args, "needs_confirmation", False) else "",
    }
    return {k: v for k, v in values.items() if v}


def _user(args: argparse.Namespace) -> Any:
    """The user the command is scoped to: --as USER, else the local operator who sees everything."""
    return scoped_user(cli_actor(args.as_user))


def cmd_list(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.findings.queries import finding_list

    qs = finding_list(_user(args), filters=_filters(args))
    rows = [
        {
            "id": f.pk,
            "system": f.system.name,
            "vulnerability": f.vulnerability.vuln_id,
            "component": f.component_key,
            "confidence": f.confidence,
            "needs_confirmation": f.needs_confirmation,
            "state": f.state,
            "justification": f.justification,
            "last_seen": f.last_seen.isoformat(),
        }
        for f in (qs[: args.limit] if args.limit > 0 else qs)
    ]
    lines = [
        f"{r['id']:>7}  {r['state']:<12} {r['confidence']:<6}{'?' if r['needs_confirmation'] else ' '} "
        f"{r['vulnerability']:<18} {r['system']}  {r['component']}"
        for r in rows
    ]
    emit(rows, args.json, "\n".join(lines) or "no findings")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.findings.exporting import write_export

    user = _user(args)
    with err.status("Exporting findings…"):
        if args.output:
            with args.output.open("wb") as stream:
                write_export(user, args.fmt, stream, _filters(args))
            err.print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")
        else:
            write_export(user, args.fmt, sys.stdout.buffer, _filters(args))
            sys.stdout.buffer.flush()
    return 0


def cmd_vex(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.findings.exporting import export_system_vex
    from ismp.apps.inventory.queries import systems_for
    from ismp.errors import NotFound

    user = _user(args)
    system = systems_for(user).select_related("organisation").filter(name=args.system).first()
    if system is None:
        raise NotFound(f"system {args.system!r} does not exist or is not visible to you")
    data = export_system_vex(user, system, args.fmt)
    if args.output:
        args.output.write_bytes(data)
        err.print(f"wrote {args.output} ({len(data)} bytes)")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.findings import decisions
    from ismp.apps.findings.queries import findings_for
    from ismp.errors import NotFound

    actor = cli_actor(args.as_user)
    finding = findings_for(_user(args)).filter(pk=args.finding).first()
    if finding is None:
        raise NotFound(f"finding {args.finding} does not exist or is not visible to you")
    if args.not_affected:
        finding = decisions.mark_not_affected(actor, finding, justification=args.not_affected, note=args.note)
    elif args.reopen:
        finding = decisions.reopen(actor, finding)
    else:
        finding = decisions.confirm(actor, finding)
    report = {
        "id": finding.pk,
        "state": finding.state,
        "justification": finding.justification,
        "confirmed": finding.confirmed_at is not None,
    }
    emit(report, args.json, f"finding {finding.pk}: {finding.state}" + (" (confirmed)" if report["confirmed"] else ""))
    return 0
