"""Connects findings and feeds to work items: findings' changes open and close items in the same
transaction; the feeds' change events recompute urgency in the task runner."""

from __future__ import annotations

from typing import Any


def on_vulnerabilities_changed(sender: Any, **_: Any) -> None:
    from ismp.apps.workflow.tasks import recompute_urgency_changes

    recompute_urgency_changes()


def connect() -> None:
    from ismp.apps.findings.signals import findings_changed
    from ismp.apps.vulns.signals import vulnerabilities_changed
    from ismp.apps.workflow.services import on_findings_changed

    findings_changed.connect(on_findings_changed, dispatch_uid="workflow.findings_changed")
    vulnerabilities_changed.connect(on_vulnerabilities_changed, dispatch_uid="workflow.vulnerabilities_changed")
