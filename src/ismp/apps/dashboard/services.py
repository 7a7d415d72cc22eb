"""Rebuilding the dashboard's roll-up (``models``) from the live tables, in one transaction.

The roll-up is derived data, like a cache: rebuilding it changes no record anyone decided, so it is not
audited. Readers see the old rows until the new ones commit.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from ismp.apps.bulk import insert_rows
from ismp.apps.dashboard.models import (
    OrganisationCounts,
    OrganisationFindings,
    OrganisationWeek,
    Refresh,
    SystemCounts,
    SystemFindings,
    SystemTotals,
    SystemWeek,
)
from ismp.apps.dashboard.queries import TREND_WEEKS
from ismp.apps.dashboard.sources import COUNT_NAMES, LiveSource, findings_per_system, week_start
from ismp.apps.findings.models import Finding
from ismp.apps.inventory.models import System
from ismp.apps.workflow.models import WorkItem

ROLLUP_TABLES = (
    SystemCounts,
    SystemTotals,
    SystemWeek,
    SystemFindings,
    OrganisationCounts,
    OrganisationWeek,
    OrganisationFindings,
)


@dataclass(frozen=True)
class RefreshReport:
    cells: int
    weeks: int
    findings: int
    seconds: float


def refresh(now: dt.datetime | None = None) -> RefreshReport:
    """Recount every system's work items (drills excluded) and findings into the roll-up as of ``now``:
    per system, and the same summed per organisation."""
    now = now or timezone.now()
    started = time.perf_counter()
    live = LiveSource(WorkItem.objects.filter(drill__isnull=True), Finding.objects.all(), now)
    first = week_start(timezone.localdate(now)) - dt.timedelta(weeks=TREND_WEEKS - 1)
    starts = [first + dt.timedelta(weeks=i) for i in range(TREND_WEEKS + 1)]
    with transaction.atomic():
        for model in ROLLUP_TABLES:
            model.objects.all().delete()
        organisation_of = dict(System.objects.values_list("pk", "organisation_id"))
        cells = [
            (row["system_id"], row["urgency"], row["risk_level"], *(row[n] for n in COUNT_NAMES))
            for row in live.per_system_cells()
        ]
        insert_rows(SystemCounts, ("system_id", "urgency", "risk_level", *COUNT_NAMES), cells)
        insert_rows(
            OrganisationCounts,
            ("organisation_id", "urgency", "risk_level", *COUNT_NAMES),
            _per_organisation(cells, organisation_of, key_width=3),
        )
        insert_rows(
            SystemTotals,
            ("system_id", "organisation_id", *COUNT_NAMES),
            (
                (row["system_id"], row["system__organisation_id"], *(row[n] for n in COUNT_NAMES))
                for row in live.per_system()
            ),
        )
        weeks = [
            (system, week.isoformat(), opened, done) for system, week, opened, done in live.weeks_per_system(starts)
        ]
        insert_rows(SystemWeek, ("system_id", "week", "opened", "completed"), weeks)
        insert_rows(
            OrganisationWeek,
            ("organisation_id", "week", "opened", "completed"),
            _per_organisation(weeks, organisation_of, key_width=2),
        )
        findings = [
            (row["system_id"], row["state"], row["count"], row["confirmed"])
            for row in findings_per_system(Finding.objects.all())
        ]
        insert_rows(SystemFindings, ("system_id", "state", "count", "confirmed"), findings)
        insert_rows(
            OrganisationFindings,
            ("organisation_id", "state", "count", "confirmed"),
            _per_organisation(findings, organisation_of, key_width=2),
        )
        seconds = time.perf_counter() - started
        Refresh.objects.update_or_create(pk=1, defaults={"refreshed_at": now, "seconds": seconds})
    return RefreshReport(len(cells), len(weeks), len(findings), seconds)


def _per_organisation(
    rows: Iterable[tuple[Any, ...]], organisation_of: dict[int, int], *, key_width: int
) -> list[tuple[Any, ...]]:
    """Per-system rows (system, key…, counts…) summed into (organisation, key…, counts…)."""
    sums: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        key = (organisation_of[row[0]], *row[1:key_width])
        counts = sums.setdefault(key, [0] * (len(row) - key_width))
        for i, value in enumerate(row[key_width:]):
            counts[i] += value
    return [(*key, *counts) for key, counts in sums.items()]
