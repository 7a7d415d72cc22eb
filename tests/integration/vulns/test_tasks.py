"""The daily feed update: every online source is updated, and one that fails does not stop the others."""

from __future__ import annotations

import datetime as dt

from ismp.apps.vulns import tasks
from ismp.engines.feeds.registry import online_registry
from ismp.errors import FeedUnavailable


def test_schedule_follows_the_setting(settings):
    settings.ISMP = settings.ISMP.model_copy(update={"feed_schedule": "03:17"})
    runs_at = tasks._schedule()
    assert runs_at(dt.datetime(2026, 11, 25, 3, 17)) and not runs_at(dt.datetime(2026, 11, 25, 3, 18))
    settings.ISMP = settings.ISMP.model_copy(update={"feed_schedule": "off"})
    assert not tasks._schedule()(dt.datetime(2026, 11, 25, 3, 17))


def test_daily_update_runs_every_online_source_despite_a_failure(db, monkeypatch):
    called: list[str] = []

    def update(source: str) -> None:
        called.append(source)
        if source == "jvn":
            raise FeedUnavailable("jvn: unreachable")

    monkeypatch.setattr(tasks, "update_feed", update)
    tasks.daily_feed_update.call_local()
    assert called == online_registry.names()
