"""``ismp urgency``: why a finding is as urgent as it is (対応緊急度), and recomputing urgencies.

``show`` names a finding (as ``ismp findings list`` prints it) and explains its vulnerability's urgency —
risk level, attack possibility, the evidence — with the response standard (対応実施基準) and the deadlines
of the system's work item. ``recompute`` reads the feeds' change events since the last run (what the task
runner does), or with ``--all`` decides every vulnerability again (after a matrix edit, say).
"""

from __future__ import annotations

import argparse
from typing import Any

from ismp.cli.common import add_as, add_json, cli_actor, emit, err, scoped_user, setup_django


def register(sub: Any) -> None:
    group = sub.add_parser("urgency", help="explain and recompute urgencies (対応緊急度)").add_subparsers(
        dest="urgency_command", metavar="COMMAND", required=True
    )
    p = group.add_parser("show", help="a finding's urgency with its explanation and the work item's deadlines")
    p.add_argument("finding", type=int, metavar="FINDING", help="the finding's id (see `ismp findings list`)")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_show)

    p = group.add_parser("recompute", help="recompute urgencies from the feeds' changes since the last run")
    p.add_argument("--all", action="store_true", help="every vulnerability, not only the changed ones")
    add_as(p)
    add_json(p)
    p.set_defaults(handler=cmd_recompute)


def cmd_show(args: argparse.Namespace) -> int:
    setup_django()
    from django.utils import timezone

    from ismp.apps.findings.queries import findings_for
    from ismp.apps.workflow.models import VulnerabilityUrgency
    from ismp.apps.workflow.queries import is_overdue, user_time_zone, work_items_for
    from ismp.engines.urgency import RESPONSE_STANDARDS, AttackPossibility
    from ismp.errors import NotFound

    actor = cli_actor(args.as_user)
    user = scoped_user(actor)
    finding = findings_for(user).select_related("system", "vulnerability").filter(pk=args.finding).first()
    if finding is None:
        raise NotFound(f"finding {args.finding} does not exist or is not visible to you")
    vuln = finding.vulnerability
    decided = VulnerabilityUrgency.objects.filter(vulnerability=vuln).first()
    item = (
        work_items_for(user)
        .filter(system_id=finding.system_id, vulnerability=vuln, kind="security_info")
        .order_by("pk")
        .first()
    )
    urgency = item.urgency if item else decided.value if decided else ""
    with timezone.override(user_time_zone(actor.user)):
        report: dict[str, Any] = {
            "finding": finding.pk,
            "system": finding.system.name,
            "vulnerability": vuln.vuln_id,
            "urgency": urgency,
            "computed": decided.value if decided else None,
            "risk_level": decided.level if decided else vuln.risk_level,
            "attack_possibility": decided.possibility if decided else None,
            "explanation": decided.explanation if decided else "not computed yet: run `ismp urgency recompute`",
            "matrix_version": decided.matrix_version if decided else None,
            "response_standard": RESPONSE_STANDARDS.get(urgency, ""),
            "work_item": None,
        }
        if item is not None:
            report["work_item"] = {
                "id": item.pk,
                "state": item.state,
                "urgency_override": item.urgency_override,
                "urgency_override_reason": item.urgency_override_reason,
                "answer_due": timezone.localtime(item.answer_due).isoformat(),
                "due": timezone.localtime(item.due).isoformat(),
                "overdue": is_overdue(item),
            }
    possibility = report["attack_possibility"]
    lines = [
        f"finding {finding.pk}: {vuln.vuln_id} on {finding.system.name}",
        f"  対応緊急度 (urgency) {urgency or '—'}"
        + (f" (computed {report['computed']}, set by the CSIRT)" if item and item.urgency_override else ""),
        f"  リスクレベル (risk level) {report['risk_level']}"
        + (f"; 攻撃可能性 {AttackPossibility(possibility).label_ja} ({possibility})" if possibility else ""),
        f"  why: {report['explanation']}",
        f"  対応実施基準: {report['response_standard'] or '—'}",
    ]
    if report["work_item"]:
        work = report["work_item"]
        lines.append(
            f"  work item {work['id']}: {work['state']}; 登録期限 {work['answer_due']}; 完了期限 {work['due']}"
            + (" (OVERDUE)" if work["overdue"] else "")
        )
    else:
        lines.append("  no work item (the finding awaits confirmation, or it is closed)")
    emit(report, args.json, "\n".join(lines))
    return 0


def cmd_recompute(args: argparse.Namespace) -> int:
    setup_django()
    from ismp.apps.workflow import services
    from ismp.errors import Forbidden

    actor = cli_actor(args.as_user)
    if actor.user is not None and not actor.user.is_csirt:
        raise Forbidden(f"{actor.user.username} may not recompute urgencies: the CSIRT does")
    with err.status("Recomputing urgencies…"):
        report = services.recompute_urgency(None, actor=actor) if args.all else services.recompute_pending_urgency()
    data = report.as_dict()
    emit(
        data,
        args.json,
        f"{data['vulnerabilities']} vulnerabilities decided, {data['changed']} changed; "
        f"work items raised {data['items_raised']}, lowered {data['items_lowered']}",
    )
    return 0
