"""Read logic for work items, scoped by role. Every list of work items anywhere goes through ``work_items_for``.

CSIRT, CISO and auditors see every work item. System administrators and service owners see the items of
their systems (``inventory.queries.systems_for``), which is what they answer.

The emergency response board (``board``) is one vulnerability's items across the company: who answered
対策要否 / 予定 / 完了 and when (from ``WorkItemEvent``), who has not, and what is overdue.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from ismp.apps.accounts.choices import Role
from ismp.apps.accounts.models import Organisation
from ismp.apps.inventory.models import System
from ismp.apps.inventory.queries import systems_for
from ismp.apps.vulns.models import Vulnerability
from ismp.apps.workflow.models import WorkItem, WorkItemEvent
from ismp.engines import workflow as machine
from ismp.engines.urgency import URGENCIES, URGENCY_RANK
from ismp.engines.workflow import OPEN_STATES, State

OPEN = tuple(sorted(s.value for s in OPEN_STATES))
LIST_RELATED = ("system__organisation", "vulnerability", "drill")
WORK_ITEM_FILTERS = (
    "state",
    "urgency",
    "risk_level",
    "kind",
    "organisation",
    "system",
    "vuln",
    "overdue",
    "drill",
    "q",
)
WORK_ITEM_ORDERS: dict[str, tuple[str, ...]] = {
    "due": ("due", "pk"),
    "urgency": ("-urgency_rank", "due", "pk"),
    "system": ("system__name", "due", "pk"),
    "opened": ("opened_at", "pk"),
}
URGENCY_BADGES = {"S+": "badge-danger", "S-": "badge-danger", "A": "badge-warn", "B": "badge-muted"}
"""The existing badge styles an urgency is shown with (S+/S- red, A amber, B grey)."""

_RANK = Case(
    *(When(urgency=value, then=Value(URGENCY_RANK[value])) for value in URGENCIES),
    default=Value(0),
    output_field=IntegerField(),
)


def work_items_for(user: Any) -> QuerySet[WorkItem]:
    """The work items this user may see (see the module docstring)."""
    if not (user and user.is_authenticated and user.is_active):
        return WorkItem.objects.none()
    if user.sees_everything:
        return WorkItem.objects.all()
    return WorkItem.objects.filter(system__in=systems_for(user).values("pk"))


def overdue_q(now: dt.datetime) -> Q:
    """Open and past the final deadline (完了期限), or unanswered and past the registration period (登録期限)."""
    return Q(state__in=OPEN, due__lt=now) | Q(state=State.NEW.value, answer_due__lt=now)


def is_overdue(item: WorkItem, now: dt.datetime | None = None) -> bool:
    """The same rule as ``overdue_q`` for one loaded item (rows of lists and the board)."""
    now = now or timezone.now()
    return (item.state in OPEN and item.due < now) or (item.state == State.NEW.value and item.answer_due < now)


def organisation_and_descendants(code: str) -> list[int]:
    """The pk of the organisation with this code and of every organisation below it (one query)."""
    parents = dict(Organisation.objects.values_list("pk", "parent_id"))
    codes = dict(Organisation.objects.filter(code=code).values_list("code", "pk"))
    root = codes.get(code)
    if root is None:
        return []
    children: dict[int | None, list[int]] = {}
    for pk, parent in parents.items():
        children.setdefault(parent, []).append(pk)
    found, stack = [], [root]
    while stack:
        pk = stack.pop()
        found.append(pk)
        stack.extend(children.get(pk, []))
    return found


def work_item_list(
    user: Any, *, filters: dict[str, str] | None = None, order: str = "due", now: dt.datetime | None = None
) -> QuerySet[WorkItem]:
    """Visible work items, filtered and ordered, with everything a row shows joined (one query a page).

    Filters: ``state`` (a state, or "open" for every state that still needs someone), ``urgency``, ``kind``,
    ``organisation`` (a code; its sub-organisations included), ``system`` (pk or exact name), ``vuln`` (an
    id such as CVE-2014-6271), ``risk_level`` (the vulnerability's risk level 1–5), ``overdue`` ("1"), ``drill``
    (a drill's id, or "all" for real and drill items; without it, response drills' items are left out, as
    on the dashboard), ``q`` (text in the vulnerability, title or system). Unknown values match nothing
    rather than everything."""
    qs = work_items_for(user).select_related(*LIST_RELATED).annotate(urgency_rank=_RANK)
    values = {k: v.strip() for k, v in (filters or {}).items() if k in WORK_ITEM_FILTERS and v and v.strip()}
    if "state" in values:
        state = values["state"]
        qs = qs.filter(state__in=OPEN) if state == "open" else qs.filter(state=state)
    drill = values.get("drill", "")
    if drill.isdigit():
        qs = qs.filter(drill_id=int(drill))
    elif drill != "all":
        qs = qs.filter(drill__isnull=True)
    if "urgency" in values:
        qs = qs.filter(urgency=values["urgency"])
    if "risk_level" in values:
        risk = values["risk_level"]
        qs = qs.filter(vulnerability__risk_level=int(risk)) if risk.isdigit() else qs.none()
    if "kind" in values:
        qs = qs.filter(kind=values["kind"])
    if "organisation" in values:
        qs = qs.filter(system__organisation_id__in=organisation_and_descendants(values["organisation"]))
    if "system" in values:
        system = values["system"]
        qs = qs.filter(system_id=int(system)) if system.isdigit() else qs.filter(system__name=system)
    if "vuln" in values:
        qs = qs.filter(vulnerability__vuln_id__iexact=values["vuln"])
    if values.get("overdue") in ("1", "true", "yes", "on"):
        qs = qs.filter(overdue_q(now or timezone.now()))
    if "q" in values:
        text = values["q"]
        qs = qs.filter(
            Q(vulnerability__vuln_id__icontains=text)
            | Q(vulnerability__title__icontains=text)
            | Q(title__icontains=text)
            | Q(system__name__icontains=text)
        )
    return qs.order_by(*_ordering(order))


def _ordering(order: str) -> list[str]:
    descending = order.startswith("-")
    fields = WORK_ITEM_ORDERS.get(order.lstrip("-"), WORK_ITEM_ORDERS["due"])
    if not descending:
        return list(fields)
    return [f[1:] if f.startswith("-") else f"-{f}" for f in fields]


def work_item_detail(user: Any, pk: int) -> WorkItem | None:
    """One visible work item with what its page shows, or None (absent or outside the user's scope)."""
    return (
        work_items_for(user)
        .select_related(*LIST_RELATED, "system__service_owner", "vulnerability__urgency")
        .filter(pk=pk)
        .first()
    )


def history(item: WorkItem) -> list[WorkItemEvent]:
    return list(item.events.order_by("at", "pk"))


def allowed_actions(user: Any, item: WorkItem) -> list[machine.Action]:
    """The actions ``user`` may attempt on ``item`` now (one form each on its page); values are checked when
    the action is taken."""
    from ismp.apps.workflow.services import engine_actor, snapshot

    if not (user and user.is_authenticated and user.is_active):
        return []
    return machine.allowed(snapshot(item), engine_actor(user, item))


def can_override_urgency(user: Any) -> bool:
    """Only the CSIRT sets an urgency by hand or edits the matrix and the response policy."""
    return bool(user and user.is_authenticated and user.is_active and user.role == Role.CSIRT)


def user_time_zone(user: Any) -> str:
    """The zone deadlines are shown in: the user's own (notification preference), else the company's
    (ISMP_TIME_ZONE, Asia/Tokyo by default)."""
    from ismp.apps.notifications.queries import preference_for

    preference = preference_for(user) if user and user.is_authenticated else None
    return preference.time_zone if preference and preference.time_zone else str(settings.TIME_ZONE)


def system_work_items(user: Any, system: System, *, limit: int = 20) -> dict[str, Any]:
    """The work-items section of a system's page: open items, most urgent first, and counts."""
    visible = work_items_for(user).filter(system=system, drill__isnull=True)
    now = timezone.now()
    counts = visible.aggregate(
        open=Count("pk", filter=Q(state__in=OPEN)),
        overdue=Count("pk", filter=overdue_q(now)),
        done=Count("pk", filter=Q(state=State.DONE.value)),
    )
    rows = list(
        visible.filter(state__in=OPEN)
        .select_related("vulnerability")
        .annotate(urgency_rank=_RANK)
        .order_by("-urgency_rank", "due", "pk")[:limit]
    )
    for row in rows:
        row.overdue = is_overdue(row, now)  # type: ignore[attr-defined]
    return {"counts": counts, "rows": rows}


# ------------------------------------------------------------------------------------------------- board

ANSWER_ACTIONS = {"decide": "要否", "plan": "予定", "complete": "完了"}
BOARD_ORDERS: dict[str, tuple[str, ...]] = {
    "organisation": ("system__organisation__code", "system__name", "pk"),
    "system": ("system__name", "pk"),
    "state": ("state", "system__organisation__code", "system__name", "pk"),
    "urgency": ("-urgency_rank", "system__organisation__code", "system__name", "pk"),
    "due": ("due", "system__name", "pk"),
}


@dataclass
class Answer:
    """Who registered one answer (要否, 予定 or 完了) and when; the latest if it was registered again."""

    by: str
    at: dt.datetime
    note: str = ""


@dataclass
class BoardRow:
    item: WorkItem
    administrators: list[str]
    answers: dict[str, Answer]  # "decide" / "plan" / "complete" → Answer
    overdue: bool

    @property
    def unanswered(self) -> bool:
        """Nobody has registered 対策要否 yet (the item is still new)."""
        return self.item.state == State.NEW.value

    @property
    def waiting_on(self) -> list[str]:
        """Who has not answered: the administrators of an unanswered item."""
        return self.administrators if self.unanswered else []


@dataclass
class Board:
    vulnerability: Vulnerability
    rows: list[BoardRow]
    counts: dict[str, int] = field(default_factory=dict)
    by_state: dict[str, int] = field(default_factory=dict)


def board_vulnerabilities(user: Any, *, limit: int = 100) -> list[dict[str, Any]]:
    """Vulnerabilities with open S+ or S- work items visible to ``user``, most affected systems first."""
    rows = (
        work_items_for(user)
        .filter(drill__isnull=True, vulnerability__isnull=False, state__in=OPEN, urgency__in=("S+", "S-"))
        .order_by()
        .values("vulnerability__vuln_id", "vulnerability__title")
        .annotate(
            open_items=Count("pk"),
            splus=Count("pk", filter=Q(urgency="S+")),
            unanswered=Count("pk", filter=Q(state=State.NEW.value)),
            overdue=Count("pk", filter=overdue_q(timezone.now())),
        )
        .order_by("-open_items", "vulnerability__vuln_id")[:limit]
    )
    return [dict(row) for row in rows]


def board(user: Any, vuln_id: str, *, order: str = "organisation", now: dt.datetime | None = None) -> Board | None:
    """The emergency response board of one vulnerability (None when it does not exist or the user sees
    none of its work items). Three queries whatever the number of systems: items, administrators, events."""
    vulnerability = Vulnerability.objects.filter(vuln_id__iexact=vuln_id).first()
    if vulnerability is None:
        return None
    now = now or timezone.now()
    answers = WorkItemEvent.objects.filter(action__in=list(ANSWER_ACTIONS)).order_by("at", "pk")
    items = list(
        work_items_for(user)
        .filter(vulnerability=vulnerability, drill__isnull=True)
        .select_related("system__organisation")
        .prefetch_related(
            Prefetch("system__administrators", queryset=_admins()),
            Prefetch("events", queryset=answers, to_attr="answer_events"),
        )
        .annotate(urgency_rank=_RANK)
        .order_by(*BOARD_ORDERS.get(order, BOARD_ORDERS["organisation"]))
    )
    if not items:
        return None
    rows = []
    for item in items:
        events = item.answer_events
        recorded = {event.action: Answer(event.actor_label, event.at, event.note) for event in events}
        admins = [admin.username for admin in item.system.administrators.all()]
        rows.append(BoardRow(item, admins, recorded, is_overdue(item, now)))
    states = Counter(row.item.state for row in rows)
    counts = {
        "systems": len(rows),
        "answered": sum(1 for row in rows if not row.unanswered),
        "unanswered": sum(1 for row in rows if row.unanswered),
        "planned": sum(1 for row in rows if "plan" in row.answers),
        "done": states.get(State.DONE.value, 0),
        "open": sum(1 for row in rows if row.item.state in OPEN),
        "overdue": sum(1 for row in rows if row.overdue),
    }
    return Board(vulnerability, rows, counts, dict(sorted(states.items())))


def _admins() -> QuerySet[Any]:
    from ismp.apps.accounts.models import User

    return User.objects.order_by("username").only("pk", "username")
