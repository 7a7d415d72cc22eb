"""Response drills (対応訓練): the CSIRT sends a simulated vulnerability to chosen systems; their administrators
answer it like a real one (要否 → 予定 → 完了) and the report gives each organisation's time to answer and to
complete. Drill items carry ``drill`` and their notifications are marked as a drill, so nothing real is mixed in.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from ismp.apps.audit import services as audit
from ismp.apps.audit.models import AuditAction
from ismp.apps.audit.services import Actor
from ismp.apps.inventory.models import System
from ismp.apps.workflow.models import Drill, WorkItem, WorkItemEvent
from ismp.apps.workflow.queries import organisation_and_descendants
from ismp.apps.workflow.services import announce_items, current_policy
from ismp.engines import urgency as engine
from ismp.engines import workflow as machine
from ismp.errors import Forbidden, InputError


def start_drill(
    actor: Actor, *, name: str, vuln_title: str, urgency: str, system_ids: Sequence[int], description: str = ""
) -> Drill:
    """Start a drill for these systems (CSIRT only): one drill work item per system, announced as a drill."""
    if actor.user is not None and not actor.user.is_csirt:
        raise Forbidden("only the CSIRT starts response drills")
    if not name.strip() or not vuln_title.strip():
        raise InputError("a drill needs a name and the simulated vulnerability's title", field="name")
    if urgency not in engine.URGENCIES:
        raise InputError(f"urgency {urgency!r} is not one of {', '.join(engine.URGENCIES)}", field="urgency")
    systems = list(System.objects.filter(pk__in=set(system_ids)).values_list("pk", flat=True))
    if not systems:
        raise InputError("choose at least one existing system for the drill", field="systems")
    now = timezone.now()
    periods = current_policy().periods(urgency, now)
    with transaction.atomic():
        drill = Drill.objects.create(
            name=name.strip(),
            vuln_title=vuln_title.strip(),
            description=description.strip(),
            urgency=urgency,
            started_by=actor.user,
            started_at=now,
        )
        items = WorkItem.objects.bulk_create(
            WorkItem(
                kind=machine.Kind.SECURITY_INFO,
                system_id=system_id,
                title=drill.vuln_title,
                drill=drill,
                urgency=urgency,
                urgency_explanation=f"{urgency}: set by the drill {drill.name!r}",
                opened_at=now,
                answer_due=periods.answer_due,
                due=periods.due,
                updated_at=now,
            )
            for system_id in sorted(systems)
        )
        WorkItemEvent.objects.bulk_create(
            WorkItemEvent(
                item_id=item.pk,
                at=now,
                actor=actor.user,
                actor_label=actor.name,
                action="drill_started",
                to_state="new",
            )
            for item in items
        )
        audit.record(actor, AuditAction.CREATE, drill, None, audit.snapshot(drill))
        pks = [item.pk for item in items]
        transaction.on_commit(lambda: announce_items("drill", pks, dedupe_suffix=f"drill-{drill.pk}"))
    return drill


def participant_system_ids(organisation_codes: Iterable[str], system_ids: Iterable[int]) -> list[int]:
    """The systems taking part: those chosen one by one plus every system of the chosen organisations and of
    the organisations below them. An unknown organisation code is an input error, not silently skipped."""
    ids = set(system_ids)
    for code in organisation_codes:
        organisations = organisation_and_descendants(code)
        if not organisations:
            raise InputError(f"no organisation with code {code!r}", field="organisations")
        ids.update(System.objects.filter(organisation__in=organisations).values_list("pk", flat=True))
    return sorted(ids)


def end_drill(actor: Actor, drill: Drill) -> Drill:
    """End a drill: its open items are closed so that no reminder or escalation follows."""
    if actor.user is not None and not actor.user.is_csirt:
        raise Forbidden("only the CSIRT ends response drills")
    if drill.ended_at is not None:
        raise InputError(f"the drill {drill.name!r} ended at {drill.ended_at:%Y-%m-%d %H:%M} UTC", field="drill")
    now = timezone.now()
    with transaction.atomic():
        before = audit.snapshot(drill)
        drill.ended_at = now
        drill.save(update_fields=["ended_at"])
        WorkItem.objects.filter(drill=drill, state__in=[s.value for s in machine.OPEN_STATES]).update(
            state=machine.State.CLOSED, closed_reason="the drill ended", updated_at=now
        )
        audit.record(actor, AuditAction.UPDATE, drill, before, audit.snapshot(drill))
    return drill


@dataclass
class OrganisationResult:
    organisation: str
    systems: int = 0
    answered: int = 0
    completed: int = 0
    answer_hours: list[float] = field(default_factory=list)
    complete_hours: list[float] = field(default_factory=list)
    not_answered: list[str] = field(default_factory=list)  # system names

    def as_dict(self) -> dict[str, Any]:
        return {
            "organisation": self.organisation,
            "systems": self.systems,
            "answered": self.answered,
            "completed": self.completed,
            "median_hours_to_answer": _median(self.answer_hours),
            "max_hours_to_answer": max(self.answer_hours, default=None),
            "median_hours_to_complete": _median(self.complete_hours),
            "not_answered": self.not_answered,
        }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def drill_report(drill: Drill) -> list[OrganisationResult]:
    """Each participating organisation's answers: how many answered and completed, and how long it took."""
    completed_at: dict[int, dt.datetime] = dict(
        WorkItemEvent.objects.filter(item__drill=drill, action=machine.Action.COMPLETE).values_list("item_id", "at")
    )
    results: dict[str, OrganisationResult] = defaultdict(lambda: OrganisationResult(""))
    rows = WorkItem.objects.filter(drill=drill).values_list(
        "pk", "system__name", "system__organisation__name", "opened_at", "answered_at"
    )
    for pk, system, organisation, opened, answered in rows.order_by("system__organisation__code", "system__name"):
        result = results[organisation]
        result.organisation = organisation
        result.systems += 1
        if answered is None:
            result.not_answered.append(system)
        else:
            result.answered += 1
            result.answer_hours.append((answered - opened).total_seconds() / 3600)
        if pk in completed_at:
            result.completed += 1
            result.complete_hours.append((completed_at[pk] - opened).total_seconds() / 3600)
    return list(results.values())
