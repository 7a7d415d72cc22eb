"""``ismp workitems``: list, show, export and act on work items (対応状況), scoped with ``--as USER``.

Without ``--as`` the local operator sees everything and acts with the CSIRT's rights, recorded as
cli:<login name>. ``act`` takes the item's ``--version`` as read (a conflict if someone changed it since);
without it, the current version is used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from ismp.cli.common import add_as, add_json, cli_actor, emit, err, scoped_user, setup_django

STATES = (
    "open",
    "new",
    "applied",
    "needed",
    "planned",
    "approved",
    "done",
    "not_needed",
    "exception_requested",
    "accepted",
    "closed",
)
URGENCIES = ("S+", "S-", "A", "B")
ACTIONS = (
    "decide",
    "plan",
    "approve",
    "reject",
    "complete",
    "request_exception",
    "approve_exception",
    "reject_exception",
    "record_stop",
    "record_resume",
    "record_no_stop_grounds",
)
ORDERS = ("due", "-due", "urgency", "-urgency", "system", "-system", "opened", "-opened")


def register(sub: Any) -> None:
    group = sub.add_parser("workitems", help="list, show, export and act on work items (対応状況)").add_subparsers(
        dest="workitems_command", metavar="COMMAND", required=True
    )
    p = group.add_parser("list", help="list the work items you may see")
    _add_filters(p)
    p.add_argument("--order", choices=ORDERS, default="due", help="default: due (the 完了期限 first)")
    p.add_argument("--limit", type=int, default=100, help="at most this many rows (default 100; 0: all)")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_list)

    p = group.add_parser("show", help="one work item: urgency, deadlines, answers, history, what you may do")
    p.add_argument("item", type=int, metavar="ITEM", help="the work item's id")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_show)

    p = group.add_parser("export", help="export the work items you may see as CSV, XLSX or JSON")
    p.add_argument("--format", dest="fmt", choices=("csv", "xlsx", "json"), default="csv")
    _add_filters(p)
    p.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    add_as(p)
    p.set_defaults(handler=cmd_export)

    p = group.add_parser("act", help="take an action: decide (対策要否), plan (予定), approve, complete (完了) …")
    p.add_argument("item", type=int, metavar="ITEM", help="the work item's id")
    p.add_argument("action", choices=ACTIONS, metavar="ACTION", help=", ".join(ACTIONS))
    p.add_argument("--version", type=int, help="the item's version you read (default: the current one)")
    p.add_argument("--needed", choices=("yes", "no"), help="decide: is a countermeasure needed (対策要否)")
    p.add_argument("--reason", default="", help="decide/reject/exception/grounds: why; approve: a note")
    p.add_argument("--planned-date", type=dt.date.fromisoformat, metavar="YYYY-MM-DD", help="plan: 予定日")
    p.add_argument("--method", default="", help="plan: what will be done (対策方法)")
    p.add_argument("--evidence", default="", help="complete: the evidence (完了の根拠)")
    p.add_argument("--on", type=dt.date.fromisoformat, metavar="YYYY-MM-DD", help="complete: 完了日 (default today)")
    p.add_argument("--until", type=dt.date.fromisoformat, metavar="YYYY-MM-DD", help="request_exception: expiry")
    p.add_argument("--at", type=_moment, metavar="YYYY-MM-DDTHH:MM", help="record_stop/resume: when (default now)")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_act)


def _moment(text: str) -> dt.datetime:
    """An ISO time; without an offset it is read in the company's time zone (ISMP_TIME_ZONE)."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        from django.utils import timezone

        setup_django()
        value = timezone.make_aware(value)
    return value


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", choices=STATES, help='a state, or "open" for every state that needs someone')
    p.add_argument("--urgency", choices=URGENCIES)
    p.add_argument("--kind", choices=("security_info", "diagnosis"))
    p.add_argument("--organisation", metavar="CODE", help="only systems of this organisation and those below it")
    p.add_argument("--system", metavar="NAME", help="only this system (name or id)")
    p.add_argument("--vuln", metavar="ID", help="only this vulnerability (CVE-…)")
    p.add_argument("--overdue", action="store_true", help="only items past 登録期限 unanswered or past 完了期限")
    p.add_argument("--search", metavar="TEXT", help="text in the vulnerability, title or system")


def _filters(args: argparse.Namespace) -> dict[str, str]:
    values = {
        "state": args.state,
        "urgency": args.urgency,
        "kind": args.kind,
        "organisation": args.organisation,
        "system": args.system,
        "vuln": args.vuln,
        "overdue": "1" if args.overdue else "",
        "q": args.search,
    }
    return {k: v for k, v in values.items() if v}


def _user(args: argparse.Namespace) -> Any:
    """The user the command is scoped to: --as USER, else the local operator who sees everything."""
    return scoped_user(cli_actor(args.as_user))


def _zone(user: Any) -> str:
    from ismp.apps.workflow.queries import user_time_zone

    return user_time_zone(user) if getattr(user, "pk", None) else user_time_zone(None)


def _time(value: dt.datetime | None) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _row(item: Any) -> dict[str, Any]:
    from ismp.apps.workflow.queries import is_overdue

    return {
        "id": item.pk,
        "kind": item.kind,
        "system": item.system.name,
        "organisation": item.system.organisation.code,
        "subject": item.subject,
        "urgency": item.urgency,
        "state": item.state,
        "overdue": is_overdue(item),
        "answer_due": _time(item.answer_due),
        "due": _time(item.due),
        "version": item.version,
    }


def cmd_list(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone

    from ismp.apps.workflow.queries import work_item_list

    user = _user(args)
    qs = work_item_list(user, filters=_filters(args), order=args.order)
    with timezone.override(_zone(user)):
        rows = [_row(item) for item in (qs[: args.limit] if args.limit > 0 else qs)]
    lines = [
        f"{r['id']:>7}  {r['urgency']:<3} {r['state']:<20} due {r['due']}{' OVERDUE' if r['overdue'] else '        '}"
        f"  {r['subject']:<18} {r['system']}"
        for r in rows
    ]
    emit(rows, args.json, "\n".join(lines) or "no work items")
    return 0


def _visible(args: argparse.Namespace) -> Any:
    from ismp.apps.workflow.queries import work_item_detail
    from ismp.errors import NotFound

    item = work_item_detail(_user(args), args.item)
    if item is None:
        raise NotFound(f"work item {args.item} does not exist or is not visible to you")
    return item


def cmd_show(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone

    from ismp.apps.workflow.queries import history
    from ismp.apps.workflow.services import engine_actor
    from ismp.engines import workflow as machine
    from ismp.engines.urgency import RESPONSE_STANDARDS

    item = _visible(args)
    actor = cli_actor(args.as_user)
    snapshot = machine.Item(
        kind=machine.Kind(item.kind),
        state=machine.State(item.state),
        urgency=item.urgency,
        service_stopped_at=item.service_stopped_at,
    )
    may = [a.value for a in machine.allowed(snapshot, engine_actor(actor.user, item)) if a.value in ACTIONS]
    with timezone.override(_zone(_user(args))):
        report = _row(item) | {
            "urgency_explanation": item.urgency_explanation,
            "urgency_override": item.urgency_override,
            "response_standard": RESPONSE_STANDARDS.get(item.urgency, ""),
            "needed": item.needed,
            "decision_reason": item.decision_reason,
            "planned_date": item.planned_date.isoformat() if item.planned_date else None,
            "method": item.method,
            "completed_on": item.completed_on.isoformat() if item.completed_on else None,
            "evidence": item.evidence,
            "last_note": item.last_note,
            "allowed_actions": may,
            "history": [
                {"at": _time(e.at), "by": e.actor_label, "action": e.action, "to": e.to_state, "note": e.note}
                for e in history(item)
            ],
        }
    lines = [
        f"work item {item.pk} (version {item.version}): {item.subject} on {item.system.name}",
        f"  urgency {item.urgency}: {item.urgency_explanation}",
        f"  対応実施基準: {report['response_standard']}",
        f"  state {item.state}{' (OVERDUE)' if report['overdue'] else ''}; "
        f"登録期限 {report['answer_due']}; 完了期限 {report['due']}",
        f"  you may: {', '.join(may) or 'nothing'}",
        *(f"  {h['at']}  {h['by']:<12} {h['action']:<22} → {h['to']}  {h['note']}" for h in report["history"]),
    ]
    emit(report, args.json, "\n".join(lines))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone

    from ismp.apps.workflow.exporting import write_work_items

    user = _user(args)
    with err.status("Exporting work items…"), timezone.override(_zone(user)):
        if args.output:
            with args.output.open("wb") as stream:
                write_work_items(user, args.fmt, stream, _filters(args))
            err.print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")
        else:
            write_work_items(user, args.fmt, sys.stdout.buffer, _filters(args))
            sys.stdout.buffer.flush()
    return 0


def cmd_act(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone

    from ismp.apps.workflow import services
    from ismp.engines.workflow import Action, Step

    item = _visible(args)
    actor = cli_actor(args.as_user)
    step = Step(
        Action(args.action),
        needed={"yes": True, "no": False}.get(args.needed or ""),
        reason=args.reason,
        planned_date=args.planned_date,
        method=args.method,
        evidence=args.evidence,
        on=args.on,
        until=args.until,
        at=args.at,
    )
    item = services.transition(actor, item, step, version=args.version or item.version)
    with timezone.override(_zone(_user(args))):
        report = _row(item)
    emit(report, args.json, f"work item {item.pk}: {item.state} (version {item.version})")
    return 0
