"""REST API for the audit trail: read-only, for CSIRT, CISO and auditors."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, viewsets

from ismp.apps.audit.models import AuditEntry
from ismp.apps.audit.queries import AUDIT_FILTERS, audit_entries_for


class AuditEntrySerializer(serializers.ModelSerializer[AuditEntry]):
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor_name",
            "via",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
        ]


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet[AuditEntry]):
    """Every change to the inventory and accounts; filters: object_type, object_id, actor, action."""

    serializer_class = AuditEntrySerializer

    @staticmethod
    def read_allowed(user: Any) -> bool:
        return bool(user.reads_audit_trail)

    def get_queryset(self) -> Any:
        params = self.request.query_params
        return audit_entries_for(self.request.user, {k: params.get(k, "") for k in AUDIT_FILTERS})
