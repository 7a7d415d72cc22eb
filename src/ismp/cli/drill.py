"""``ismp drill``: response drills (対応訓練) — start one for chosen systems or organisations, end it, report."""

from __future__ import annotations

import argparse
from typing import Any

from ismp.cli.common import add_as, add_json, cli_actor, emit, setup_django

URGENCIES = ("S+", "S-", "A", "B")


def register(sub: Any) -> None:
    group = sub.add_parser("drill", help="response drills (対応訓練): start, end, report").add_subparsers(
        dest="drill_command", metavar="COMMAND", required=True
    )
    p = group.add_parser("start", help="send a simulated vulnerability to chosen systems' administrators")
    p.add_argument("--name", required=True, help="the drill's name, e.g. '2026 Q4 Shellshock drill'")
    p.add_argument("--title", required=True, help="the simulated vulnerability's title")
    p.add_argument("--description", default="", help="the scenario the participants read")
    p.add_argument("--urgency", choices=URGENCIES, default="S+")
    p.add_argument("--system", action="append", default=[], metavar="NAME", help="a participating system (repeat)")
    p.add_argument(
        "--organisation",
        action="append",
        default=[],
        metavar="CODE",
        help="every system of this organisation and of those below it",
    )
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_start)

    p = group.add_parser("end", help="end a drill: its open items are closed")
    p.add_argument("drill", type=int, metavar="ID")
    add_as(p)
    p.set_defaults(handler=cmd_end)

    p = group.add_parser("report", help="each organisation's time to answer and to complete")
    p.add_argument("drill", type=int, metavar="ID")
    add_json(p)
    p.set_defaults(handler=cmd_report)

    p = group.add_parser("list", help="the drills, newest first")
    add_json(p)
    p.set_defaults(handler=cmd_list)


def _drill(pk: int) -> Any:
    from ismp.apps.workflow.models import Drill
    from ismp.errors import NotFound

    drill = Drill.objects.filter(pk=pk).first()
    if drill is None:
        raise NotFound(f"no drill {pk}")
    return drill


def cmd_start(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.inventory.models import System
    from ismp.apps.workflow.drills import participant_system_ids, start_drill
    from ismp.errors import NotFound

    ids: list[int] = []
    for name in args.system:
        pk = System.objects.filter(name=name).values_list("pk", flat=True).first()
        if pk is None:
            raise NotFound(f"no system named {name!r}")
        ids.append(pk)
    ids = participant_system_ids(args.organisation, ids)  # organisations with those below them
    drill = start_drill(
        cli_actor(args.as_user),
        name=args.name,
        vuln_title=args.title,
        urgency=args.urgency,
        system_ids=ids,
        description=args.description,
    )
    count = drill.work_items.count()
    emit({"drill": drill.pk, "systems": count}, args.json, f"drill {drill.pk} started for {count} systems")
    return 0


def cmd_end(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.workflow.drills import end_drill

    drill = end_drill(cli_actor(args.as_user), _drill(args.drill))
    print(f"drill {drill.pk} ended")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.workflow.drills import drill_report

    drill = _drill(args.drill)
    rows = [result.as_dict() for result in drill_report(drill)]
    lines = [f"drill {drill.pk} {drill.name!r}: {drill.vuln_title} ({drill.urgency})"]
    for r in rows:
        answer = "-" if r["median_hours_to_answer"] is None else f"{r['median_hours_to_answer']} h"
        complete = "-" if r["median_hours_to_complete"] is None else f"{r['median_hours_to_complete']} h"
        lines.append(
            f"  {r['organisation']}: {r['answered']}/{r['systems']} answered (median {answer}), "
            f"{r['completed']} completed (median {complete})"
            + (f"; not answered: {', '.join(r['not_answered'])}" if r["not_answered"] else "")
        )
    emit({"drill": drill.pk, "name": drill.name, "organisations": rows}, args.json, "\n".join(lines))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.workflow.models import Drill

    rows = [
        {
            "id": d.pk,
            "name": d.name,
            "urgency": d.urgency,
            "started_at": d.started_at.isoformat(),
            "ended_at": d.ended_at.isoformat() if d.ended_at else None,
            "systems": d.work_items.count(),
        }
        for d in Drill.objects.all()
    ]
    lines = [f"{r['id']:>4}  {r['urgency']:<3} {r['name']}  ({r['systems']} systems)" for r in rows]
    emit(rows, args.json, "\n".join(lines) or "no drills")
    return 0
