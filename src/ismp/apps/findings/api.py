"""REST API for findings: scoped reads, decisions (not affected, reopen, confirm), exports and VEX.

Reads go through ``queries.findings_for`` (an administrator never sees an unconfirmed low-confidence
match); decisions call ``decisions``, which refuses the wrong role or state (403 / 400 problem responses).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ismp.apps.accounts.choices import Role
from ismp.apps.audit.services import Actor
from ismp.apps.findings import decisions
from ismp.apps.findings.choices import Confidence, FindingState, Justification
from ismp.apps.findings.exporting import EXPORT_FORMATS, VEX_FORMATS, export_download, vex_download
from ismp.apps.findings.models import Finding
from ismp.apps.findings.queries import FINDING_FILTERS, FINDING_ORDERS, finding_list
from ismp.apps.inventory.queries import systems_for
from ismp.errors import InputError, NotFound


class FindingSerializer(serializers.ModelSerializer[Finding]):
    system_name = serializers.CharField(source="system.name", read_only=True)
    organisation = serializers.CharField(source="system.organisation.code", read_only=True)
    vulnerability = serializers.CharField(source="vulnerability.vuln_id", read_only=True)
    title = serializers.CharField(source="vulnerability.title", read_only=True)
    needs_confirmation = serializers.BooleanField(read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, allow_null=True)
    confirmed_by = serializers.CharField(source="confirmed_by.username", read_only=True, allow_null=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "system",
            "system_name",
            "organisation",
            "vulnerability",
            "title",
            "component",
            "component_key",
            "criterion",
            "confidence",
            "needs_confirmation",
            "reason",
            "evidence",
            "state",
            "closed_reason",
            "justification",
            "decision_note",
            "decided_by",
            "decided_at",
            "confirmed_by",
            "confirmed_at",
            "first_seen",
            "last_seen",
        ]
        read_only_fields = fields


class NotAffectedSerializer(serializers.Serializer[Any]):
    justification = serializers.ChoiceField(choices=Justification.choices)
    note = serializers.CharField(max_length=decisions.MAX_NOTE)


LIST_PARAMETERS = [
    OpenApiParameter("state", str, enum=list(FindingState.values)),
    OpenApiParameter("confidence", str, enum=list(Confidence.values)),
    OpenApiParameter("system", str, description="a system's id or exact name"),
    OpenApiParameter("organisation", str, description="an organisation's code"),
    OpenApiParameter("vuln", str, description="a vulnerability id (CVE-…)"),
    OpenApiParameter("q", str, description="text in the vulnerability, system, component or criterion"),
    OpenApiParameter("needs_confirmation", str, enum=["true", "false"], description="the CSIRT's queue"),
    OpenApiParameter("ordering", str, enum=[o for key in FINDING_ORDERS for o in (key, f"-{key}")]),
]


def _filters(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "") for name in FINDING_FILTERS}


@extend_schema_view(list=extend_schema(parameters=LIST_PARAMETERS))
class FindingViewSet(viewsets.ReadOnlyModelViewSet[Finding]):
    """Vulnerabilities matched to the systems you may see, with evidence, confidence and decisions."""

    serializer_class = FindingSerializer
    write_roles = (Role.CSIRT, Role.SYSADMIN)

    def get_queryset(self) -> Any:
        return finding_list(
            self.request.user,
            filters=_filters(self.request),
            order=self.request.query_params.get("ordering") or "-last_seen",
        )

    def _decided(self, finding: Finding) -> Response:
        return Response(FindingSerializer(finding).data)

    @extend_schema(request=NotAffectedSerializer, responses=FindingSerializer)
    @action(detail=True, methods=["post"], url_path="not-affected")
    def not_affected(self, request: Request, pk: str | None = None) -> Response:
        """Mark the finding not affected (VEX) with a justification and a note: the CSIRT, or the system's
        administrators."""
        form = NotAffectedSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        return self._decided(
            decisions.mark_not_affected(
                Actor(request.user, "api"),
                self.get_object(),
                justification=form.validated_data["justification"],
                note=form.validated_data["note"],
            )
        )

    @extend_schema(request=None, responses=FindingSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        """Undo a not-affected decision."""
        return self._decided(decisions.reopen(Actor(request.user, "api"), self.get_object()))

    @extend_schema(request=None, responses=FindingSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """Confirm a low-confidence match (CSIRT): the system's administrators see it from then on."""
        return self._decided(decisions.confirm(Actor(request.user, "api"), self.get_object()))

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=list(EXPORT_FORMATS)), *LIST_PARAMETERS[:-1]],
        responses={200: bytes},
    )
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> HttpResponse:
        """The findings you may see (filtered as the list) as csv, xlsx or json, streamed."""
        return export_download(request.user, request.query_params.get("format", "csv"), _filters(request))

    @extend_schema(
        parameters=[
            OpenApiParameter("system", int, required=True, description="the system's id"),
            OpenApiParameter("format", str, enum=list(VEX_FORMATS)),
        ],
        responses={200: bytes},
    )
    @action(detail=False, methods=["get"])
    def vex(self, request: Request) -> HttpResponse:
        """One system's VEX: CycloneDX 1.6 (its SBOM with vulnerabilities) or OpenVEX 0.2.0."""
        system_id = request.query_params.get("system", "")
        if not system_id.isdigit():
            raise InputError("name the system by its id: ?system=ID", field="system")
        system = systems_for(request.user).select_related("organisation").filter(pk=int(system_id)).first()
        if system is None:
            raise NotFound(f"system {system_id} does not exist or is not visible to you")
        return vex_download(request.user, system, request.query_params.get("format", "cyclonedx"))
