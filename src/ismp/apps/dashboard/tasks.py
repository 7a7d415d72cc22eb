"""The dashboard's roll-up, rebuilt by the task runner every five minutes (see ``services.refresh``)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from ismp.apps.dashboard.services import refresh

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
def refresh_rollup() -> None:
    with lock_task("dashboard-rollup"):
        report = refresh()
    log.info("dashboard roll-up: %s", report)
