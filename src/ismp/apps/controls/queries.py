"""Read logic for controls, scoped by role: every system comes from ``inventory.queries.systems_for``.

Who may do what:

- see a system's controls, gate checks and exceptions: whoever sees the system (CSIRT, CISO and auditors
  see all; administrators and service owners their own);
- set a control's status: the CSIRT, or the system's administrators;
- edit the baseline: the CSIRT;
- record a design review or pre-launch diagnosis: the CSIRT, or the system's service owner (who signs off
  pre-launch checks) — never the administrators who built it;
- request a gate exception: the CSIRT, or the system's administrators; approve or refuse it: the CISO.
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from ismp.apps.accounts.choices import Role
from ismp.apps.controls.choices import GAP_LABELS, ExceptionState, Status
from ismp.apps.controls.models import Baseline, GateCheck, GateException, SystemControl
from ismp.apps.inventory.choices import Lifecycle
from ismp.apps.inventory.models import System
from ismp.apps.inventory.queries import can_change_system, systems_for
from ismp.engines.controls import (
    DEFAULT_BASELINE,
    Control,
    ControlRecord,
    ControlStatus,
    Coverage,
    CoverageRow,
    GateKind,
    GateResult,
    GateState,
    SystemControls,
    evaluate,
    launch_blockers,
    make_baseline,
    summarise,
)
from ismp.engines.controls import Baseline as BaselineRules


def today() -> dt.date:
    return timezone.localdate()


def _active(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def can_set_controls(user: Any, system: System) -> bool:
    return can_change_system(user, system)


def can_edit_baseline(user: Any) -> bool:
    return _active(user) and user.role == Role.CSIRT


def can_record_gate(user: Any, system: System) -> bool:
    if not _active(user):
        return False
    return bool(user.role == Role.CSIRT or (user.role == Role.SERVICE_OWNER and system.service_owner_id == user.pk))


def can_request_exception(user: Any, system: System) -> bool:
    if not _active(user) or user.role not in (Role.CSIRT, Role.SYSADMIN):
        return False
    return bool(user.role == Role.CSIRT or system.administrators.filter(pk=user.pk).exists())


def can_decide_exception(user: Any) -> bool:
    return _active(user) and user.role == Role.CISO


# ------------------------------------------------------------------------------------------ baseline


def current_baseline() -> BaselineRules:
    """The baseline in force: the latest saved version, else DESIGN.md's table (version 1). One query."""
    row = Baseline.objects.order_by("-version").first()
    if row is None:
        return DEFAULT_BASELINE
    return make_baseline(row.version, row.requirements)


def baseline_history() -> QuerySet[Baseline]:
    return Baseline.objects.select_related("created_by").order_by("-version")


# ------------------------------------------------------------------------------------ status and gaps


def _required(baseline: BaselineRules) -> Q:
    """SystemControl rows whose control the baseline requires of their system's type."""
    parts = [
        Q(system__system_type=t, control__in=[c.value for c in controls])
        for t, controls in baseline.requirements.items()
        if controls
    ]
    return reduce(or_, parts) if parts else Q(pk__in=[])


def _fresh(day: dt.date) -> Q:
    return Q(review_by__isnull=True) | Q(review_by__gte=day)


def _satisfied(day: dt.date) -> Q:
    return Q(status=Status.IMPLEMENTED) & _fresh(day) | Q(status=Status.NOT_APPLICABLE)


def records_of(controls: Any) -> list[ControlRecord]:
    return [ControlRecord(Control(c.control), ControlStatus(c.status), c.review_by) for c in controls]


def system_controls(system: System, *, day: dt.date | None = None) -> tuple[SystemControls, list[dict[str, Any]]]:
    """A system's page: its evaluation against the baseline, and one row per control in table order with
    the recorded state (or None), whether it is required and the gap's reason."""
    baseline = current_baseline()
    day = day or today()
    recorded = {c.control: c for c in SystemControl.objects.filter(system=system).select_related("checked_by")}
    result = evaluate(baseline.required(system.system_type), records_of(recorded.values()), day)
    reasons = {g.control: g.reason for g in result.gaps}
    rows = [
        {
            "control": control.value,
            "record": recorded.get(control.value),
            "required": control in result.required,
            "gap": reasons.get(control),
            "gap_label": GAP_LABELS[reasons[control]] if control in reasons else "",
        }
        for control in Control
    ]
    return result, rows


def systems_with_gaps(systems: QuerySet[System], *, day: dt.date | None = None) -> QuerySet[System]:
    """The systems annotated with ``required_count``, ``satisfied_count`` and ``gap_count`` (one query, the
    baseline aside), only those with gaps, most gaps first."""
    baseline = current_baseline()
    day = day or today()
    required_n = Case(
        *(When(system_type=t, then=Value(len(controls))) for t, controls in baseline.requirements.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    satisfied = (
        SystemControl.objects.filter(_required(baseline), _satisfied(day), system=OuterRef("pk"))
        .order_by()
        .values("system")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        systems.select_related("organisation")
        .annotate(
            required_count=required_n,
            satisfied_count=Coalesce(Subquery(satisfied, output_field=IntegerField()), 0),
        )
        .annotate(gap_count=F("required_count") - F("satisfied_count"))
        .filter(gap_count__gt=0)
        .order_by("-gap_count", "name")
    )


def gaps_by_system(systems: list[System], *, day: dt.date | None = None) -> dict[int, SystemControls]:
    """Each listed system's evaluation (one query for their controls, one for the baseline)."""
    baseline = current_baseline()
    day = day or today()
    records: dict[int, list[SystemControl]] = {s.pk: [] for s in systems}
    for control in SystemControl.objects.filter(system_id__in=list(records)):
        records[control.system_id].append(control)
    return {s.pk: evaluate(baseline.required(s.system_type), records_of(records[s.pk]), day) for s in systems}


def coverage(
    systems: QuerySet[System], *, day: dt.date | None = None, baseline: BaselineRules | None = None
) -> Coverage:
    """Required / implemented / not applicable / gap counts of ``systems``, per organisation and in total,
    in three queries whatever the number of systems (the baseline, systems per organisation and type, and
    the satisfied controls per organisation). The engine's ``coverage_of`` is the reference it matches."""
    baseline = baseline or current_baseline()
    day = day or today()
    groups: dict[int, dict[str, Any]] = {}
    for row in (
        systems.order_by()
        .values("organisation_id", "organisation__code", "organisation__name", "system_type")
        .annotate(n=Count("pk"))
    ):
        group = groups.setdefault(
            row["organisation_id"],
            {"code": row["organisation__code"], "name": row["organisation__name"], "systems": 0, "required": 0},
        )
        group["systems"] += row["n"]
        group["required"] += row["n"] * len(baseline.required(row["system_type"]))
    counts: dict[int, Any] = {}
    if groups:
        counts = {
            row["system__organisation_id"]: row
            for row in SystemControl.objects.filter(_required(baseline), system__in=systems.order_by().values("pk"))
            .order_by()
            .values("system__organisation_id")
            .annotate(
                implemented=Count("pk", filter=Q(status=Status.IMPLEMENTED) & _fresh(day)),
                not_applicable=Count("pk", filter=Q(status=Status.NOT_APPLICABLE)),
                stale=Count("pk", filter=Q(status=Status.IMPLEMENTED, review_by__lt=day)),
            )
        }
    rows = [
        CoverageRow(
            key=g["code"],
            name=g["name"],
            systems=g["systems"],
            required=g["required"],
            implemented=counts.get(org, {}).get("implemented", 0),
            not_applicable=counts.get(org, {}).get("not_applicable", 0),
            stale=counts.get(org, {}).get("stale", 0),
        )
        for org, g in groups.items()
    ]
    return summarise(rows)


def assessed_systems(user: Any, *, organisation: str = "") -> QuerySet[System]:
    """The systems the gaps pages, API and CLI assess: those the user may see, retired ones left out (a
    retired system needs no controls), optionally of one organisation (by code)."""
    systems = systems_for(user).exclude(lifecycle=Lifecycle.RETIRED)
    if organisation:
        systems = systems.filter(organisation__code=organisation)
    return systems


# ------------------------------------------------------------------------------------ gates


def gate_states(system_ids: list[int], *, day: dt.date | None = None) -> dict[int, GateState]:
    """Each system's latest result per gate and its longest approved, unexpired exception (two queries)."""
    day = day or today()
    results: dict[int, dict[GateKind, GateResult | None]] = {pk: {} for pk in system_ids}
    for check in GateCheck.objects.filter(system_id__in=system_ids).order_by(
        "system_id", "kind", "-performed_on", "-pk"
    ):
        results[check.system_id].setdefault(GateKind(check.kind), GateResult(check.result))
    expires: dict[int, dt.date] = {}
    for system_id, expires_on in GateException.objects.filter(
        system_id__in=system_ids, state=ExceptionState.APPROVED, expires_on__gte=day
    ).values_list("system_id", "expires_on"):
        expires[system_id] = max(expires_on, expires.get(system_id, expires_on))
    return {pk: GateState(results[pk], expires.get(pk)) for pk in system_ids}


def gate_checks_for(user: Any) -> QuerySet[GateCheck]:
    return GateCheck.objects.filter(system__in=systems_for(user).values("pk")).select_related("system", "recorded_by")


def exceptions_for(user: Any) -> QuerySet[GateException]:
    return GateException.objects.filter(system__in=systems_for(user).values("pk")).select_related(
        "system", "requested_by", "decided_by"
    )


def system_controls_for(user: Any) -> QuerySet[SystemControl]:
    return SystemControl.objects.filter(system__in=systems_for(user).values("pk")).select_related(
        "system", "checked_by"
    )


def lapsed_exceptions(user: Any, *, day: dt.date | None = None) -> list[tuple[GateException, list[str]]]:
    """Approved exceptions that have expired while their system still lacks passed checks (and has no
    newer valid exception): the system runs outside the framework, so the CISO sees it with what is still
    missing. Three queries."""
    day = day or today()
    expired = list(
        exceptions_for(user)
        .filter(state=ExceptionState.APPROVED, expires_on__lt=day, system__lifecycle=Lifecycle.IN_SERVICE)
        .order_by("expires_on", "pk")
    )
    states = gate_states(sorted({e.system_id for e in expired}), day=day)
    lapsed, seen = [], set()
    for exception in reversed(expired):  # the latest expiry per system
        blockers = launch_blockers(states[exception.system_id], day)
        if blockers and exception.system_id not in seen:
            lapsed.append((exception, blockers))
        seen.add(exception.system_id)
    return lapsed[::-1]


def pending_exceptions(user: Any) -> QuerySet[GateException]:
    """The CISO's queue: requests waiting for a decision, oldest first."""
    return exceptions_for(user).filter(state=ExceptionState.PENDING).order_by("requested_at", "pk")
