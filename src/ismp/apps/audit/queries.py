"""Reading the audit trail: only roles that may read it, filtered as asked."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ismp.apps.audit.models import AuditEntry

AUDIT_FILTERS = {"object_type": "object_type", "object_id": "object_id", "actor": "actor_name", "action": "action"}


def audit_entries_for(user: Any, filters: dict[str, str] | None = None) -> QuerySet[AuditEntry]:
    if not (user and user.is_authenticated and user.reads_audit_trail):
        return AuditEntry.objects.none()
    qs = AuditEntry.objects.all()
    for key, value in (filters or {}).items():
        if value and key in AUDIT_FILTERS:
            qs = qs.filter(**{AUDIT_FILTERS[key]: value})
    return qs


AUDIT_COLUMNS = ("at", "actor_name", "via", "action", "object_type", "object_id", "object_repr", "before", "after")
