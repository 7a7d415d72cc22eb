"""``ismp controls``: gaps and coverage, a system's control status, pre-launch checks, scoped with ``--as USER``."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from ismp.cli.common import add_as, add_json, cli_actor, emit, scoped_user, setup_django
from ismp.engines.controls import Control, ControlStatus, GateKind, GateResult


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def register(sub: Any) -> None:
    group = sub.add_parser(
        "controls", help="control baseline (適用基準): gaps, control status, pre-launch checks"
    ).add_subparsers(dest="controls_command", metavar="COMMAND", required=True)

    p = group.add_parser("gaps", help="coverage per organisation and the systems with gaps")
    p.add_argument("--organisation", metavar="CODE", help="only systems of this organisation")
    p.add_argument("--limit", type=int, default=50, help="at most this many systems listed (default 50; 0: all)")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_gaps)

    p = group.add_parser("set", help="record a control's status on a system, with its evidence")
    p.add_argument("system", metavar="SYSTEM", help="the system's name")
    p.add_argument("control", choices=[c.value for c in Control], metavar="CONTROL", help=", ".join(Control))
    p.add_argument("status", choices=[s.value for s in ControlStatus], metavar="STATUS", help=", ".join(ControlStatus))
    p.add_argument("--evidence", default="", help="what shows the control is in place")
    p.add_argument("--reference", default="", help="a document reference or URL")
    p.add_argument("--file", dest="evidence_file", default="", help="the evidence file's name")
    p.add_argument("--reason", default="", help="why it does not apply (required with not_applicable)")
    p.add_argument("--review-by", type=_date, metavar="YYYY-MM-DD", help="the evidence is stale after this date")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_set)

    p = group.add_parser("gate", help="record a design review or pre-launch diagnosis of a system")
    p.add_argument("system", metavar="SYSTEM", help="the system's name")
    p.add_argument(
        "kind", choices=[k.value for k in GateKind], help="design_review (設計レビュー) or prelaunch (リリース前診断)"
    )
    p.add_argument("result", choices=[r.value for r in GateResult])
    p.add_argument("--evidence", required=True, help="what was checked and where the report is")
    p.add_argument("--reference", default="", help="a document reference or URL")
    p.add_argument("--date", dest="performed_on", type=_date, metavar="YYYY-MM-DD", help="when (default: today)")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_gate)


def _user(args: argparse.Namespace) -> Any:
    return scoped_user(cli_actor(args.as_user))


def _system(args: argparse.Namespace) -> Any:
    from ismp.apps.inventory.queries import systems_for
    from ismp.errors import NotFound

    system = systems_for(_user(args)).filter(name=args.system).first()
    if system is None:
        raise NotFound(f"system {args.system!r} does not exist or is not visible to you")
    return system


def cmd_gaps(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.controls import queries

    systems = queries.assessed_systems(_user(args), organisation=args.organisation or "")
    coverage = queries.coverage(systems)
    gapped = queries.systems_with_gaps(systems)
    listed = list(gapped[: args.limit] if args.limit > 0 else gapped)
    evaluated = queries.gaps_by_system(listed)
    report: dict[str, Any] = {
        "baseline_version": queries.current_baseline().version,
        "total": _row(coverage.total),
        "organisations": [_row(r) for r in coverage.rows],
        "systems": [
            {
                "system": s.name,
                "organisation": s.organisation.code,
                "system_type": s.system_type,
                "gaps": [{"control": g.control.value, "reason": g.reason.value} for g in evaluated[s.pk].gaps],
            }
            for s in listed
        ],
    }
    lines = [f"{'organisation':<14} {'systems':>7} {'required':>8} {'done':>6} {'n/a':>5} {'gaps':>6}  coverage"]
    for row in (*coverage.rows, coverage.total):
        lines.append(
            f"{row.key or 'all':<14} {row.systems:>7} {row.required:>8} {row.implemented:>6} "
            f"{row.not_applicable:>5} {row.gaps:>6}  {row.percent}%"
        )
    for entry in report["systems"]:
        gaps = ", ".join(f"{g['control']} ({g['reason']})" for g in entry["gaps"])
        lines.append(f"  {entry['system']} [{entry['organisation']}]: {gaps}")
    emit(report, args.json, "\n".join(lines))
    return 0


def _row(row: Any) -> dict[str, Any]:
    return {
        "organisation": row.key,
        "name": row.name,
        "systems": row.systems,
        "required": row.required,
        "implemented": row.implemented,
        "not_applicable": row.not_applicable,
        "stale": row.stale,
        "gaps": row.gaps,
        "coverage": round(row.ratio, 4),
    }


def cmd_set(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.controls import services

    row = services.set_control(
        cli_actor(args.as_user),
        _system(args),
        args.control,
        args.status,
        reason=args.reason,
        evidence=args.evidence,
        reference=args.reference,
        evidence_file=args.evidence_file,
        review_by=args.review_by,
    )
    report = {
        "system": args.system,
        "control": row.control,
        "status": row.status,
        "review_by": row.review_by.isoformat() if row.review_by else None,
    }
    emit(report, args.json, f"{args.system}: {row.control} is {row.status}")
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.controls import services

    check = services.record_gate_check(
        cli_actor(args.as_user),
        _system(args),
        args.kind,
        args.result,
        evidence=args.evidence,
        reference=args.reference,
        performed_on=args.performed_on,
    )
    report = {
        "system": args.system,
        "check": check.kind,
        "result": check.result,
        "performed_on": check.performed_on.isoformat(),
    }
    emit(report, args.json, f"{args.system}: {check.get_kind_display()} {check.result} on {check.performed_on}")
    return 0
