"""Connects the inventory's and the feeds' change signals to incremental matching in the task runner."""

from __future__ import annotations

from typing import Any


def on_components_changed(sender: Any, system_ids: list[int], **_: Any) -> None:
    from ismp.apps.findings.tasks import match_changed_systems

    if system_ids:
        match_changed_systems(sorted(set(system_ids)))


def on_applicability_changed(sender: Any, **_: Any) -> None:
    from ismp.apps.findings.tasks import match_feed_changes

    match_feed_changes()


def connect() -> None:
    from ismp.apps.inventory.signals import components_changed
    from ismp.apps.vulns.signals import applicability_changed

    components_changed.connect(on_components_changed, dispatch_uid="findings.components_changed")
    applicability_changed.connect(on_applicability_changed, dispatch_uid="findings.applicability_changed")
