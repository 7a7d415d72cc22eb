"""Urgency recomputation and the work-item sweep in the task runner.

Urgency reads the feeds' change events past its own mark (``UrgencyState``), so a lost or repeated task
misses nothing. The sweep (exceptions expiring, registration-period reminders, overdue escalation) runs every
quarter of an hour; each item is reminded once and escalated at most once a day.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from ismp.apps.workflow.services import recompute_pending_urgency, sweep

log = logging.getLogger(__name__)


@db_task()
def recompute_urgency_changes() -> None:
    with lock_task("recompute-urgency"):
        report = recompute_pending_urgency()
    log.info("recomputed urgency: %s", report.as_dict())


@db_periodic_task(crontab(minute="*/15"))
def sweep_work_items() -> None:
    with lock_task("sweep-work-items"):
        report = sweep()
    log.info("work-item sweep: %s", report)
