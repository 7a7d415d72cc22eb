"""The bottom line (ボトムラインの可視化) of a scope — the company, one organisation with its descendants, or
one system — as plain values the page, the API and the reports all render.

Every figure is an aggregate grouped in SQL; the number of queries does not depend on the number of
systems, organisations or work items (``summary`` makes the same queries for ten systems and for ten
thousand). Python only sums the per-system rows into organisations, because the organisation tree is
small and walking it in SQL would need a recursive query per database.

What counts:

- **open**: a work item in one of ``ismp.engines.workflow.OPEN_STATES``;
- **overdue**: open and past its deadline (完了期限), or still "new" after its registration period
  (登録期間) ended;
- **severe**: overdue and S+ or S-, the items the CISO asks about first;
- **completed**: 完了 (state "done").

A response drill's items (対応訓練) never count. The systems and organisations furthest behind come first:
most severe, then most overdue, then most open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from ismp.apps.accounts.models import Organisation
from ismp.apps.inventory.models import System
from ismp.apps.inventory.queries import systems_for
from ismp.apps.workflow.models import WorkItem
from ismp.engines.urgency import URGENCIES
from ismp.engines.workflow import OPEN_STATES, State

SEVERE_URGENCIES = ("S+", "S-")
RISK_LEVELS = (5, 4, 3, 2, 1)
TREND_WEEKS = 12
TOP_SYSTEMS = 20
UPCOMING = 10
OPEN_VALUES = sorted(s.value for s in OPEN_STATES)


# --------------------------------------------------------------------------------------------- values


@dataclass
class Counts:
    """Work items of one group: open, overdue (of them), severe (overdue S+/S-) and completed."""

    open: int = 0
    overdue: int = 0
    severe: int = 0
    done: int = 0

    def add(self, other: Counts) -> None:
        self.open += other.open
        self.overdue += other.overdue
        self.severe += other.severe
        self.done += other.done

    @property
    def behind(self) -> tuple[int, int, int]:
        """The ranking key: most severe, then most overdue, then most open."""
        return (self.severe, self.overdue, self.open)

    def as_dict(self) -> dict[str, int]:
        return {"open": self.open, "overdue": self.overdue, "severe": self.severe, "done": self.done}


@dataclass
class Group:
    """One row of a breakdown: an urgency, a risk level, an organisation or a system, with its counts and
    the list filter (``workitems`` query parameters) that shows the items behind it."""

    key: str
    label: str
    counts: Counts = field(default_factory=Counts)
    filters: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    links: dict[str, str | None] = field(default_factory=dict)  # count name → the list behind it


@dataclass
class Week:
    start: dt.date
    opened: int = 0
    completed: int = 0


@dataclass
class Scope:
    """What the summary covers: everything the user sees, narrowed to an organisation (with its
    descendants) or one system."""

    organisation: Organisation | None = None
    system: System | None = None
    path: list[Organisation] = field(default_factory=list)  # company → … → organisation, for breadcrumbs

    @property
    def label(self) -> str:
        if self.system is not None:
            return self.system.name
        if self.organisation is not None:
            return self.organisation.name
        return ""

    def filters(self) -> dict[str, str]:
        """The list filter of the whole scope."""
        if self.system is not None:
            return {"system": str(self.system.pk)}
        if self.organisation is not None:
            return {"organisation": self.organisation.code}
        return {}


@dataclass
class Summary:
    scope: Scope
    now: dt.datetime
    total: Group
    by_urgency: list[Group]
    by_risk: list[Group]
    organisations: list[Group]
    systems: list[Group]
    trend: list[Week]
    findings: dict[str, int]
    findings_links: dict[str, str]
    names_en: dict[str, str] = field(default_factory=dict)  # organisation code → English name (or the code)
    coverage: Any = None  # ismp.engines.controls.Coverage, or None when not asked for
    upcoming: list[WorkItem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: what the API returns and the reports write."""

        def groups(rows: Iterable[Group]) -> list[dict[str, Any]]:
            return [{"key": g.key, "label": g.label, **g.counts.as_dict(), **g.extra, "links": g.links} for g in rows]

        coverage = None
        if self.coverage is not None:
            coverage = {
                "required": self.coverage.total.required,
                "implemented": self.coverage.total.implemented,
                "not_applicable": self.coverage.total.not_applicable,
                "gaps": self.coverage.total.gaps,
                "percent": self.coverage.total.percent,
                "organisations": [
                    {"organisation": r.key, "name": r.name, "systems": r.systems, "required": r.required,
                     "gaps": r.gaps, "percent": r.percent}
                    for r in self.coverage.rows
                ],
            }  # fmt: skip
        return {
            "scope": {
                "organisation": self.scope.organisation.code if self.scope.organisation else None,
                "system": self.scope.system.pk if self.scope.system else None,
                "label": self.scope.label,
            },
            "generated_at": self.now.isoformat(),
            "total": self.total.counts.as_dict(),
            "by_urgency": groups(self.by_urgency),
            "by_risk_level": groups(self.by_risk),
            "organisations": groups(self.organisations),
            "systems": groups(self.systems),
            "trend": [{"week": w.start.isoformat(), "opened": w.opened, "completed": w.completed} for w in self.trend],
            "findings": self.findings,
            "coverage": coverage,
        }


# ---------------------------------------------------------------------------------------------- scope


def descendants(organisations: Iterable[Organisation], root_id: int) -> set[int]:
    """The ids of ``root_id`` and every organisation below it."""
    children: dict[int | None, list[int]] = {}
    for org in organisations:
        children.setdefault(org.parent_id, []).append(org.pk)
    found, stack = set(), [root_id]
    while stack:
        pk = stack.pop()
        if pk not in found:
            found.add(pk)
            stack.extend(children.get(pk, []))
    return found


def _path(by_id: Mapping[int, Organisation], org: Organisation) -> list[Organisation]:
    path, node, seen = [], org, set()
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        path.append(node)
        node = by_id.get(node.parent_id) if node.parent_id else None  # type: ignore[assignment]
    return path[::-1]


def scoped_items(user: Any, systems: QuerySet[System] | None) -> QuerySet[WorkItem]:
    """The work items behind the user's bottom line: their systems' (all for CSIRT, CISO, auditors),
    never a drill's. ``systems`` narrows to a scope; None means every visible system."""
    items = WorkItem.objects.filter(drill__isnull=True)
    if systems is not None:
        return items.filter(system__in=systems.values("pk"))
    if getattr(user, "sees_everything", False):
        return items
    return items.filter(system__in=systems_for(user).values("pk"))


# ------------------------------------------------------------------------------------------- counting


def _conditions(now: dt.datetime) -> dict[str, Q]:
    is_open = Q(state__in=OPEN_VALUES)
    overdue = is_open & (Q(due__lt=now) | Q(state=State.NEW, answer_due__lt=now))
    return {
        "open": is_open,
        "overdue": overdue,
        "severe": overdue & Q(urgency__in=SEVERE_URGENCIES),
        "done": Q(state=State.DONE),
    }


def _counted(qs: QuerySet[Any], now: dt.datetime) -> QuerySet[Any]:
    counted: QuerySet[Any] = qs.annotate(**{name: Count("pk", filter=cond) for name, cond in _conditions(now).items()})
    return counted


def _counts(row: Mapping[str, Any]) -> Counts:
    return Counts(row["open"], row["overdue"], row["severe"], row["done"])


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def trend(items: QuerySet[WorkItem], now: dt.datetime, weeks: int = TREND_WEEKS) -> list[Week]:
    """Work items opened and completed (完了) per week (Monday to Sunday, local time) over the last
    ``weeks`` weeks, this one included: two grouped queries."""
    first = week_start(timezone.localdate(now)) - dt.timedelta(weeks=weeks - 1)
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    buckets = [Week(first + dt.timedelta(weeks=i)) for i in range(weeks)]
    by_start = {w.start: w for w in buckets}
    opened = (
        items.filter(opened_at__gte=start)
        .order_by()
        .annotate(week=TruncWeek("opened_at"))
        .values("week")
        .annotate(n=Count("pk"))
    )
    for row in opened:
        week = row["week"]
        day = timezone.localtime(week).date() if isinstance(week, dt.datetime) else week
        if day in by_start:
            by_start[day].opened += row["n"]
    completed = (
        items.filter(state=State.DONE, completed_on__gte=first)
        .order_by()
        .annotate(week=TruncWeek("completed_on"))
        .values("week")
        .annotate(n=Count("pk"))
    )
    for row in completed:
        week = row["week"]
        day = week.date() if isinstance(week, dt.datetime) else week
        if day in by_start:
            by_start[day].completed += row["n"]
    return buckets


def _by_urgency_and_risk(items: QuerySet[WorkItem], now: dt.datetime) -> tuple[list[Group], list[Group], Counts]:
    """One query grouped by (urgency, risk level), folded into the two breakdowns and the total."""
    rows = _counted(items.order_by().values("urgency", "vulnerability__risk_level"), now)
    urgency = {u: Group(u, u, filters={"urgency": u}) for u in URGENCIES}
    risk = {level: Group(str(level), str(level), filters={"risk_level": str(level)}) for level in RISK_LEVELS}
    unknown = Group("-", "—")  # diagnosis results without a known vulnerability
    total = Counts()
    for row in rows:
        counts = _counts(row)
        total.add(counts)
        if row["urgency"] in urgency:
            urgency[row["urgency"]].counts.add(counts)
        risk.get(row["vulnerability__risk_level"], unknown).counts.add(counts)
    by_risk = list(risk.values()) + ([unknown] if unknown.counts.behind != (0, 0, 0) or unknown.counts.done else [])
    return list(urgency.values()), by_risk, total


def _per_system(items: QuerySet[WorkItem], now: dt.datetime) -> list[dict[str, Any]]:
    """One row per system that has any work item: its organisation and counts (one query)."""
    return list(_counted(items.order_by().values("system_id", "system__name", "system__organisation_id"), now))


def _rank(groups: Iterable[Group]) -> list[Group]:
    return sorted(groups, key=lambda g: (tuple(-n for n in g.counts.behind), g.label))


def _organisation_rows(rows: list[dict[str, Any]], orgs: list[Organisation], scope: Scope) -> list[Group]:
    """The organisations one level below the scope (the company's divisions, a division's departments),
    each with its descendants' counts; the scope's own systems as a row of their own."""
    by_id = {o.pk: o for o in orgs}
    if scope.organisation is not None:
        parent: int | None = scope.organisation.pk
    else:
        roots = [o for o in orgs if o.parent_id is None]
        parent = roots[0].pk if len(roots) == 1 else None
    children = [o for o in orgs if o.parent_id == parent]
    owner: dict[int, int] = {}  # organisation id → the child row it counts under
    for child in children:
        for pk in descendants(orgs, child.pk):
            owner[pk] = child.pk
    groups = {
        c.pk: Group(
            c.code,
            c.name,
            filters={"organisation": c.code},
            extra={"organisation": c.code, "kind": c.kind, "name_en": c.name_en},
        )
        for c in children
    }
    if parent is not None:
        own = by_id[parent]
        groups[parent] = Group(
            own.code,
            own.name,
            filters={"organisation": own.code},
            extra={"organisation": own.code, "kind": own.kind, "name_en": own.name_en},
        )
    for row in rows:
        org_id = row["system__organisation_id"]
        target = owner.get(org_id, parent if org_id == parent else None)
        if target is not None:
            groups[target].counts.add(_counts(row))
    if parent is not None and groups[parent].counts == Counts():
        del groups[parent]  # no systems of its own with work items
    return _rank(groups.values())


def _system_rows(rows: list[dict[str, Any]], orgs: Mapping[int, Organisation], limit: int) -> list[Group]:
    groups = [
        Group(
            str(row["system_id"]),
            row["system__name"],
            _counts(row),
            filters={"system": str(row["system_id"])},
            extra={
                "system": row["system_id"],
                "organisation": getattr(orgs.get(row["system__organisation_id"]), "code", ""),
            },
        )
        for row in rows
        if row["open"]
    ]
    return _rank(groups)[:limit]


def _findings(user: Any, systems: QuerySet[System] | None) -> dict[str, int]:
    from ismp.apps.findings.queries import findings_for

    qs = findings_for(user)
    if systems is not None:
        qs = qs.filter(system__in=systems.values("pk"))
    return {row["state"]: row["n"] for row in qs.order_by().values("state").annotate(n=Count("pk"))}


def _coverage(user: Any, systems: QuerySet[System] | None) -> Any:
    """Control-baseline coverage (適用基準) of the scope's systems, from ``ismp.apps.controls``."""
    from ismp.apps.controls.queries import coverage

    return coverage(systems if systems is not None else systems_for(user))


# -------------------------------------------------------------------------------------------- summary


def _link(scope: Scope, total: Group, *breakdowns: list[Group]) -> None:
    """Give every row the lists behind its counts; urgency and risk rows keep the scope's filter."""
    from ismp.apps.dashboard.links import group_links

    total.links = group_links(total)
    for rows in breakdowns:
        for group in rows:
            if "organisation" not in group.filters and "system" not in group.filters:
                group.filters = {**scope.filters(), **group.filters}
            if group.key != "-":
                group.links = group_links(group)


def _findings_links(scope: Scope) -> dict[str, str]:
    from ismp.apps.dashboard.links import findings_url

    return {state: findings_url({**scope.filters(), "state": state}) for state in ("open", "not_affected", "closed")}


def resolve_scope(
    user: Any, *, organisation: str = "", system: int | str | None = None
) -> tuple[Scope, list[Organisation]]:
    """The scope an ``?organisation=CODE`` or ``?system=ID`` asks for, and every organisation (one query,
    two with a system). An unknown code or a system outside the user's view raises ``NotFound``."""
    from ismp.errors import NotFound

    orgs = list(Organisation.objects.order_by("code"))
    by_id = {o.pk: o for o in orgs}
    scope = Scope()
    if system not in (None, ""):
        found = systems_for(user).filter(pk=int(system)).first() if str(system).isdigit() else None
        if found is None:
            raise NotFound(f"system {system} does not exist or is not yours to see")
        scope.system = found
        scope.path = _path(by_id, by_id[found.organisation_id])
    elif organisation:
        org = next((o for o in orgs if o.code == organisation), None)
        if org is None:
            raise NotFound(f"organisation {organisation!r} does not exist; see `ismp organisations list`")
        scope.organisation = org
        scope.path = _path(by_id, org)
    return scope, orgs


def summary(
    user: Any,
    *,
    organisation: str = "",
    system: int | str | None = None,
    now: dt.datetime | None = None,
    top: int = TOP_SYSTEMS,
    with_coverage: bool = True,
) -> Summary:
    """The bottom line of what ``user`` may see, narrowed to an organisation (code, descendants included)
    or a system (id). A fixed number of queries whatever the data's size."""
    now = now or timezone.now()
    scope, orgs = resolve_scope(user, organisation=organisation, system=system)
    by_id = {o.pk: o for o in orgs}
    systems: QuerySet[System] | None = None
    if scope.system is not None:
        systems = System.objects.filter(pk=scope.system.pk)
    elif scope.organisation is not None:
        systems = systems_for(user).filter(organisation_id__in=descendants(orgs, scope.organisation.pk))
    items = scoped_items(user, systems)
    by_urgency, by_risk, counts = _by_urgency_and_risk(items, now)
    rows = _per_system(items, now)
    total = Group("all", scope.label, counts, filters=scope.filters())
    organisation_rows = _organisation_rows(rows, orgs, scope) if scope.system is None else []
    system_rows = _system_rows(rows, by_id, top)
    _link(scope, total, by_urgency, by_risk, organisation_rows, system_rows)
    upcoming: list[WorkItem] = []
    if not getattr(user, "sees_everything", False) or scope.system is not None:
        upcoming = list(
            items.filter(state__in=OPEN_VALUES)
            .select_related("system", "vulnerability")
            .order_by("due", "pk")[:UPCOMING]
        )
    return Summary(
        scope=scope,
        now=now,
        total=total,
        by_urgency=by_urgency,
        by_risk=by_risk,
        organisations=organisation_rows,
        systems=system_rows,
        trend=trend(items, now),
        findings=_findings(user, systems),
        findings_links=_findings_links(scope),
        names_en={o.code: o.name_en or o.code for o in orgs},
        coverage=_coverage(user, systems) if with_coverage else None,
        upcoming=upcoming,
    )
