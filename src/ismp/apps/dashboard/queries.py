"""The bottom line (ボトムラインの可視化) of a scope — the company, one organisation with its descendants, or
one system — as plain values the page, the API and the reports all render.

Every figure is an aggregate grouped in SQL, read from a ``sources.Source``: the live tables for a scope
of a few hundred systems, the roll-up (``models``, rebuilt every five minutes) for the company or a
division. The number of queries does not depend on the number of systems, organisations or work items.
Python only sums the per-organisation rows up the organisation tree, because the tree is small and
walking it in SQL would need a recursive query per database.

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
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from ismp.apps.accounts.models import Organisation
from ismp.apps.dashboard.sources import (
    OPEN_VALUES,
    LiveSource,
    RollupSource,
    Source,
    week_start,
)
from ismp.apps.dashboard.values import Counts, Group, Scope, Summary, Week
from ismp.apps.inventory.choices import Lifecycle
from ismp.apps.inventory.models import System
from ismp.apps.inventory.queries import systems_for
from ismp.apps.workflow.models import WorkItem
from ismp.engines.urgency import URGENCIES

RISK_LEVELS = (5, 4, 3, 2, 1)
TREND_WEEKS = 12
TOP_SYSTEMS = 20
UPCOMING = 10
LIVE_SYSTEMS = 300  # a scope up to this many systems is counted live; a larger one from the roll-up
ROLLUP_MAX_AGE = dt.timedelta(minutes=30)  # an older roll-up is not used (the task refreshes it every 5)


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


def scoped_items(user: Any, system_ids: list[int] | None) -> QuerySet[WorkItem]:
    """The work items behind the user's bottom line, never a drill's: those of ``system_ids`` (None: every
    system, for the roles that see everything)."""
    items = WorkItem.objects.filter(drill__isnull=True)
    return items if system_ids is None else items.filter(system_id__in=system_ids)


def scoped_findings(user: Any, system_ids: list[int] | None) -> QuerySet[Any]:
    from ismp.apps.findings.queries import findings_for

    findings = findings_for(user)
    return findings if system_ids is None else findings.filter(system_id__in=system_ids)


# ------------------------------------------------------------------------------------------- counting


def _counts(row: Mapping[str, Any]) -> Counts:
    return Counts(row["open"] or 0, row["overdue"] or 0, row["severe"] or 0, row["done"] or 0)


def trend(source: Source, now: dt.datetime, weeks: int = TREND_WEEKS) -> list[Week]:
    """Work items opened and completed (完了) per week (Monday to Sunday, local time) over the last
    ``weeks`` weeks, this one included."""
    first = week_start(timezone.localdate(now)) - dt.timedelta(weeks=weeks - 1)
    starts = [first + dt.timedelta(weeks=i) for i in range(weeks + 1)]
    found = source.weeks(starts)
    return [Week(day, *found.get(day, (0, 0))) for day in starts[:-1]]


def _by_urgency_and_risk(source: Source) -> tuple[list[Group], list[Group], Counts]:
    """The (urgency, risk level) cells folded into the two breakdowns and the total."""
    urgency = {u: Group(u, u, filters={"urgency": u}) for u in URGENCIES}
    risk = {level: Group(str(level), str(level), filters={"risk_level": str(level)}) for level in RISK_LEVELS}
    unknown = Group("-", "—")  # diagnosis results without a known vulnerability
    total = Counts()
    for row in source.cells():
        counts = _counts(row)
        total.add(counts)
        if row["urgency"] in urgency:
            urgency[row["urgency"]].counts.add(counts)
        risk.get(row["risk_level"], unknown).counts.add(counts)
    by_risk = list(risk.values()) + ([unknown] if unknown.counts != Counts() else [])
    return list(urgency.values()), by_risk, total


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
        org_id = row["organisation_id"]
        target = owner.get(org_id, parent if org_id == parent else None)
        if target is not None:
            groups[target].counts.add(_counts(row))
    if parent is not None and groups[parent].counts == Counts():
        del groups[parent]  # no systems of its own with work items
    return _rank(groups.values())


def _system_rows(rows: list[dict[str, Any]], orgs: Mapping[int, Organisation]) -> list[Group]:
    """The systems furthest behind, already chosen and ordered by the source."""
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
    ]
    return _rank(groups)


def _coverage(system_ids: list[int] | None) -> Any:
    """Control-baseline coverage (適用基準) of the scope's systems in use, from ``ismp.apps.controls``."""
    from ismp.apps.controls.queries import coverage

    systems = System.objects.exclude(lifecycle=Lifecycle.RETIRED)  # as the controls pages: retired need none
    return coverage(systems if system_ids is None else systems.filter(pk__in=system_ids))


def scope_systems(user: Any, scope: Scope, orgs: list[Organisation]) -> list[int] | None:
    """The ids of the scope's systems the user sees (one query), or None for "every system" (the
    company-wide view of a role that sees everything: no filter at all)."""
    if scope.system is not None:
        return [scope.system.pk]
    if scope.organisation is None and getattr(user, "sees_everything", False):
        return None
    systems = systems_for(user)
    if scope.organisation is not None:
        systems = systems.filter(organisation_id__in=descendants(orgs, scope.organisation.pk))
    return list(systems.order_by().values_list("pk", flat=True))


def choose_source(
    user: Any,
    system_ids: list[int] | None,
    now: dt.datetime,
    source: str = "auto",
    organisation_ids: Iterable[int] | None = None,
) -> Source:
    """The live tables for a scope of at most ``LIVE_SYSTEMS`` systems, the roll-up for a larger one when
    it was refreshed within ``ROLLUP_MAX_AGE``; the live tables again when it was not (exact, slower)."""
    from ismp.apps.dashboard.models import Refresh

    refreshed = None
    if source == "rollup" or (
        source == "auto" and (System.objects.count() if system_ids is None else len(system_ids)) > LIVE_SYSTEMS
    ):
        refreshed = Refresh.objects.values_list("refreshed_at", flat=True).first()
    if source == "auto":
        source = "rollup" if refreshed and refreshed >= now - ROLLUP_MAX_AGE else "live"
    if source == "rollup":
        if getattr(user, "sees_everything", False) and (system_ids is None or organisation_ids is not None):
            # every system of the scope is visible: the per-organisation tables say the same, smaller
            return RollupSource(None, organisation_ids, confirmed_only=False, refreshed_at=refreshed)
        confirmed_only = not getattr(user, "sees_everything", False)
        return RollupSource(system_ids, confirmed_only=confirmed_only, refreshed_at=refreshed)
    return LiveSource(scoped_items(user, system_ids), scoped_findings(user, system_ids), now)


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
    source: str = "auto",
) -> Summary:
    """The bottom line of what ``user`` may see, narrowed to an organisation (code, descendants included)
    or a system (id). A fixed number of queries whatever the data's size."""
    now = now or timezone.now()
    scope, orgs = resolve_scope(user, organisation=organisation, system=system)
    by_id = {o.pk: o for o in orgs}
    system_ids = scope_systems(user, scope, orgs)
    organisation_ids = descendants(orgs, scope.organisation.pk) if scope.organisation and not scope.system else None
    data = choose_source(user, system_ids, now, source, organisation_ids)
    by_urgency, by_risk, counts = _by_urgency_and_risk(data)
    total = Group("all", scope.label, counts, filters=scope.filters())
    organisation_rows = _organisation_rows(data.per_organisation(), orgs, scope) if scope.system is None else []
    system_rows = _system_rows(data.top_systems(top), by_id)
    _link(scope, total, by_urgency, by_risk, organisation_rows, system_rows)
    upcoming: list[WorkItem] = []
    if system_ids is not None and len(system_ids) <= LIVE_SYSTEMS:
        upcoming = list(
            scoped_items(user, system_ids)
            .filter(state__in=OPEN_VALUES)
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
        trend=trend(data, now),
        findings=data.findings(),
        refreshed_at=data.refreshed_at if isinstance(data, RollupSource) else None,
        findings_links=_findings_links(scope),
        names_en={o.code: o.name_en or o.code for o in orgs},
        coverage=_coverage(system_ids) if with_coverage else None,
        upcoming=upcoming,
    )
