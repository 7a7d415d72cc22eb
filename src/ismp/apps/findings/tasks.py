"""Incremental matching in the task runner: after every feed update (the feeds' change events) and after
every change of a system's software, the findings of exactly what changed are brought in line.

Feed changes are taken from ``ChangeEvent`` past the last one matched (``MatchState``), so a task that is
lost, runs twice or runs after a restart still matches every change exactly once more: nothing is missed.
"""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_task, lock_task

from ismp.apps.findings.services import match_pending_changes, match_systems

log = logging.getLogger(__name__)


@db_task()
def match_feed_changes() -> None:
    with lock_task("match-feed-changes"):
        report = match_pending_changes()
    log.info("matched feed changes: %s", report.as_dict())


@db_task()
def match_changed_systems(system_ids: list[int]) -> None:
    report = match_systems(system_ids)
    log.info("matched changed systems: %s", report.as_dict())
