"""Delivery in the task runner: at once after an urgent announcement commits (``deliver_now``), and every
minute for digests, retries and mails held back by the hourly limit (``deliver_due``).

Both read pending rows from the database, so a task lost in a restart costs nothing but a minute; the lock
keeps two workers from sending the same rows at once.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from ismp.apps.notifications.delivery import DeliveryReport, deliver_pending

log = logging.getLogger(__name__)
LOCK = "notifications-deliver"


def deliver_exclusively() -> DeliveryReport:
    """``deliver_pending`` under the task runner's lock (shared by every worker and ``ismp notify deliver``,
    through the queue's storage); raises huey's ``TaskLockedException`` while another delivery runs."""
    with lock_task(LOCK):
        return deliver_pending()


def _deliver() -> None:
    report = deliver_exclusively()
    if report.messages_sent or report.failed_attempts:
        log.info("notifications delivered: %s", report.as_dict())


@db_task()
def deliver_now() -> None:
    _deliver()


@db_periodic_task(crontab(minute="*"))
def deliver_due() -> None:
    _deliver()
