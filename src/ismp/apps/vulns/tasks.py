"""Scheduled work of the vulnerability-intelligence app: the daily online update of every feed that can
update itself (ISMP_FEED_SCHEDULE, "off" to disable). A failing source is recorded in its feed state and
does not stop the others."""

from __future__ import annotations

import logging

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ismp.apps.vulns.services import update_feed
from ismp.engines.feeds.registry import online_registry
from ismp.errors import IsmpError

log = logging.getLogger(__name__)


def _schedule() -> crontab:
    value = settings.ISMP.feed_schedule
    if value == "off":
        return lambda _: False
    hour, minute = value.split(":")
    return crontab(hour=str(int(hour)), minute=str(int(minute)))


@db_task()
def update_source(source: str) -> None:
    try:
        update_feed(source)
    except IsmpError as exc:  # recorded in FeedState by update_feed; shown on the feed health page
        log.warning("feed update failed: %s", exc)


@db_periodic_task(_schedule())
def daily_feed_update() -> None:
    for source in online_registry.names():
        update_source(source)
