"""Rebuilding the dashboard's roll-up (``models``) from the live tables, in one transaction.

The roll-up is derived data, like a cache: rebuilding it changes no record anyone decided, so it is not
audited. Readers see the old rows until the new ones commit.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ismp.apps.bulk import insert_rows
from ismp.apps.dashboard.models import Refresh, SystemCounts, SystemFindings, SystemTotals, SystemWeek
from ismp.apps.dashboard.queries import TREND_WEEKS
from ismp.apps.dashboard.sources import COUNT_NAMES, LiveSource, findings_per_system, week_start
from ismp.apps.findings.models import Finding
from ismp.apps.workflow.models import WorkItem


@dataclass(frozen=True)
class RefreshReport:
    cells: int
    weeks: int
    findings: int
    seconds: float


def refresh(now: dt.datetime | None = None) -> RefreshReport:
    """Recount every system's work items (drills excluded) and findings into the roll-up as of ``now``."""
    now = now or timezone.now()
    started = time.perf_counter()
    live = LiveSource(WorkItem.objects.filter(drill__isnull=True), Finding.objects.all(), now)
    first = week_start(timezone.localdate(now)) - dt.timedelta(weeks=TREND_WEEKS - 1)
    starts = [first + dt.timedelta(weeks=i) for i in range(TREND_WEEKS + 1)]
    with transaction.atomic():
        for model in (SystemCounts, SystemTotals, SystemWeek, SystemFindings):
            model.objects.all().delete()
        cells = insert_rows(
            SystemCounts,
            ("system_id", "urgency", "risk_level", *COUNT_NAMES),
            (
                (row["system_id"], row["urgency"], row["risk_level"], *(row[n] for n in COUNT_NAMES))
                for row in live.per_system_cells()
            ),
        )
        insert_rows(
            SystemTotals,
            ("system_id", "organisation_id", *COUNT_NAMES),
            (
                (row["system_id"], row["system__organisation_id"], *(row[n] for n in COUNT_NAMES))
                for row in live.per_system()
            ),
        )
        weeks = insert_rows(
            SystemWeek,
            ("system_id", "week", "opened", "completed"),
            ((system, week.isoformat(), opened, done) for system, week, opened, done in live.weeks_per_system(starts)),
        )
        findings = insert_rows(
            SystemFindings,
            ("system_id", "state", "count", "confirmed"),
            (
                (row["system_id"], row["state"], row["count"], row["confirmed"])
                for row in findings_per_system(Finding.objects.all())
            ),
        )
        seconds = time.perf_counter() - started
        Refresh.objects.update_or_create(pk=1, defaults={"refreshed_at": now, "seconds": seconds})
    return RefreshReport(cells, weeks, findings, seconds)
