"""Where the bottom line's grouped counts come from: the live tables, or the roll-up (``models``).

Both sources answer the same four questions in the same row shapes, so ``queries.summary`` folds either
without knowing which it got, and ``services.refresh`` fills the roll-up from the live source itself:

- ``cells``: counts grouped by (urgency, risk level);
- ``per_organisation``: counts grouped by the systems' organisation (``organisation_id``);
- ``top_systems``: the systems furthest behind (most severe, overdue, open), with name and organisation;
- ``weeks``: work items opened and completed per week;
- ``findings``: findings per state.

Counts are ``open``, ``overdue``, ``severe`` (overdue S+/S-) and ``done`` (完了); see ``queries``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from ismp.apps.dashboard.models import (
    OrganisationCounts,
    OrganisationFindings,
    OrganisationWeek,
    SystemCounts,
    SystemFindings,
    SystemTotals,
    SystemWeek,
)
from ismp.apps.findings.models import Finding
from ismp.apps.findings.queries import UNCONFIRMED
from ismp.apps.workflow.models import WorkItem
from ismp.engines.workflow import OPEN_STATES, State

SEVERE_URGENCIES = ("S+", "S-")
OPEN_VALUES = sorted(s.value for s in OPEN_STATES)
COUNT_NAMES = ("open", "overdue", "severe", "done")
CELL = ("urgency", "risk_level")
SYSTEM = ("system_id", "system__name", "system__organisation_id")
BEHIND = ("-severe", "-overdue", "-open", "system__name")  # furthest behind first


class Source(Protocol):
    def cells(self) -> list[dict[str, Any]]: ...

    def per_organisation(self) -> list[dict[str, Any]]: ...

    def top_systems(self, limit: int) -> list[dict[str, Any]]: ...

    def weeks(self, starts: list[dt.date]) -> dict[dt.date, tuple[int, int]]: ...

    def findings(self) -> dict[str, int]: ...


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def conditions(now: dt.datetime) -> dict[str, Q]:
    """The four counts as conditions on a work item (the drill's items are filtered out before)."""
    is_open = Q(state__in=OPEN_VALUES)
    overdue = is_open & (Q(due__lt=now) | Q(state=State.NEW, answer_due__lt=now))
    return {
        "open": is_open,
        "overdue": overdue,
        "severe": overdue & Q(urgency__in=SEVERE_URGENCIES),
        "done": Q(state=State.DONE),
    }


class LiveSource:
    """Grouped queries over the work items and findings themselves: exact to the moment, and fast for a
    scope of a few hundred systems (the system id is indexed); a full scan of the company's."""

    def __init__(self, items: QuerySet[WorkItem], findings: QuerySet[Finding], now: dt.datetime) -> None:
        self.items, self.findings_qs, self.now = items, findings, now

    def _counted(self, *fields: str, **aliases: Any) -> list[dict[str, Any]]:
        counts = {name: Count("pk", filter=cond) for name, cond in conditions(self.now).items()}
        return list(self.items.order_by().values(*fields, **aliases).annotate(**counts))

    def cells(self) -> list[dict[str, Any]]:
        return self._counted("urgency", risk_level=F("vulnerability__risk_level"))

    def per_system(self) -> list[dict[str, Any]]:
        return self._counted(*SYSTEM)

    def per_organisation(self) -> list[dict[str, Any]]:
        return self._counted(organisation_id=F("system__organisation_id"))

    def top_systems(self, limit: int) -> list[dict[str, Any]]:
        counts = {name: Count("pk", filter=cond) for name, cond in conditions(self.now).items()}
        rows = self.items.order_by().values(*SYSTEM).annotate(**counts).filter(open__gt=0).order_by(*BEHIND)
        return list(rows[:limit])

    def per_system_cells(self) -> list[dict[str, Any]]:
        """Grouped by system, urgency and risk level: what the roll-up stores."""
        return self._counted("system_id", "urgency", risk_level=F("vulnerability__risk_level"))

    def _week_counts(self, starts: list[dt.date]) -> dict[str, Any]:
        """One conditional count per week and series: plain range comparisons, because truncating dates
        to weeks in SQL runs a function per row (a Python one on SQLite)."""
        moments = [timezone.make_aware(dt.datetime.combine(day, dt.time.min)) for day in starts]
        counts: dict[str, Any] = {}
        for i in range(len(starts) - 1):
            counts[f"opened_{i}"] = Count("pk", filter=Q(opened_at__gte=moments[i], opened_at__lt=moments[i + 1]))
            counts[f"completed_{i}"] = Count(
                "pk", filter=Q(state=State.DONE, completed_on__gte=starts[i], completed_on__lt=starts[i + 1])
            )
        return counts

    def _in_window(self, starts: list[dt.date]) -> QuerySet[WorkItem]:
        first = timezone.make_aware(dt.datetime.combine(starts[0], dt.time.min))
        return self.items.filter(Q(opened_at__gte=first) | Q(state=State.DONE, completed_on__gte=starts[0]))

    def weeks(self, starts: list[dt.date]) -> dict[dt.date, tuple[int, int]]:
        """``starts``: the Mondays of the weeks and the Monday after the last."""
        row = self._in_window(starts).aggregate(**self._week_counts(starts))
        return {starts[i]: (row[f"opened_{i}"] or 0, row[f"completed_{i}"] or 0) for i in range(len(starts) - 1)}

    def weeks_per_system(self, starts: list[dt.date]) -> list[tuple[int, dt.date, int, int]]:
        """(system, week, opened, completed) for every system and week with anything in it."""
        found = []
        rows: QuerySet[Any] = self._in_window(starts).order_by().values("system_id")
        for row in rows.annotate(**self._week_counts(starts)):
            for i in range(len(starts) - 1):
                opened, completed = row[f"opened_{i}"], row[f"completed_{i}"]
                if opened or completed:
                    found.append((row["system_id"], starts[i], opened, completed))
        return found

    def findings(self) -> dict[str, int]:
        return {row["state"]: row["n"] for row in self.findings_qs.order_by().values("state").annotate(n=Count("pk"))}


class RollupSource:
    """Sums over the roll-up tables (``models``), as of their last refresh. ``system_ids`` narrows to
    those systems (an administrator's scope: the per-system tables); otherwise ``organisation_ids`` (None:
    every organisation) reads the per-organisation tables, a few thousand rows for the whole company.
    ``confirmed_only`` counts only the findings an administrator sees."""

    def __init__(
        self,
        system_ids: list[int] | None,
        organisation_ids: Iterable[int] | None = None,
        *,
        confirmed_only: bool,
        refreshed_at: dt.datetime | None = None,
    ) -> None:
        self.by_system = system_ids is not None
        if system_ids is not None:
            self.scope = Q(system_id__in=system_ids)
        else:
            self.scope = Q() if organisation_ids is None else Q(organisation_id__in=list(organisation_ids))
        self.confirmed_only = confirmed_only
        self.refreshed_at = refreshed_at

    def _summed(self, qs: QuerySet[Any]) -> list[dict[str, Any]]:
        return list(qs.annotate(**{name: Sum(name) for name in COUNT_NAMES}))

    def cells(self) -> list[dict[str, Any]]:
        table = SystemCounts if self.by_system else OrganisationCounts
        return self._summed(table.objects.filter(self.scope).order_by().values(*CELL))

    def per_organisation(self) -> list[dict[str, Any]]:
        return self._summed(SystemTotals.objects.filter(self.scope).order_by().values("organisation_id"))

    def top_systems(self, limit: int) -> list[dict[str, Any]]:
        rows = SystemTotals.objects.filter(self.scope, open__gt=0).order_by(*BEHIND)
        return list(rows.values(*SYSTEM, *COUNT_NAMES)[:limit])

    def weeks(self, starts: list[dt.date]) -> dict[dt.date, tuple[int, int]]:
        table = SystemWeek if self.by_system else OrganisationWeek
        rows = (
            table.objects.filter(self.scope, week__gte=starts[0], week__lt=starts[-1])
            .order_by()
            .values("week")
            .annotate(opened=Sum("opened"), completed=Sum("completed"))
        )
        return {row["week"]: (row["opened"] or 0, row["completed"] or 0) for row in rows}

    def findings(self) -> dict[str, int]:
        table = SystemFindings if self.by_system else OrganisationFindings
        column = "confirmed" if self.confirmed_only else "count"
        rows = table.objects.filter(self.scope).order_by().values("state").annotate(n=Sum(column))
        return {row["state"]: row["n"] for row in rows if row["n"]}


def findings_per_system(findings: QuerySet[Finding]) -> QuerySet[Any]:
    """Findings grouped by system and state, with those an administrator sees (the roll-up's rows)."""
    return (
        findings.order_by()
        .values("system_id", "state")
        .annotate(count=Count("pk"), confirmed=Count("pk", filter=~UNCONFIRMED))
    )
