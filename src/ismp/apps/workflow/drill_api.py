"""REST API of response drills (対応訓練): list and read (CSIRT, CISO, auditors), start and end (CSIRT).

Participants are given as organisation codes (their sub-organisations included) and/or system ids, as in
the web form. Refusals are problem responses: 403 for another role, 400 for a bad value or a drill that
already ended, 404 for an unknown drill.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from ismp.apps.accounts.choices import Role
from ismp.apps.audit.services import Actor
from ismp.apps.workflow import drills
from ismp.apps.workflow.drill_views import drills_with_counts, reads_drills
from ismp.apps.workflow.drills import participant_system_ids
from ismp.apps.workflow.models import Drill
from ismp.engines.urgency import URGENCIES


class DrillSerializer(serializers.ModelSerializer[Drill]):
    started_by = serializers.CharField(source="started_by.username", read_only=True, allow_null=True)
    systems = serializers.IntegerField(read_only=True)
    answered = serializers.IntegerField(read_only=True)
    completed = serializers.IntegerField(read_only=True)

    class Meta:
        model = Drill
        fields = [
            "id",
            "name",
            "vuln_title",
            "description",
            "urgency",
            "started_by",
            "started_at",
            "ended_at",
            "systems",
            "answered",
            "completed",
        ]
        read_only_fields = fields


class DrillReportSerializer(DrillSerializer):
    """One drill with each participating organisation's answers (``drills.drill_report``)."""

    report = serializers.SerializerMethodField()

    class Meta(DrillSerializer.Meta):
        fields = [*DrillSerializer.Meta.fields, "report"]
        read_only_fields = fields

    def get_report(self, drill: Drill) -> list[dict[str, Any]]:
        return [result.as_dict() for result in drills.drill_report(drill)]


class DrillStartSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    vuln_title = serializers.CharField(max_length=300, help_text="the simulated vulnerability's title")
    description = serializers.CharField(required=False, allow_blank=True, default="", help_text="the scenario")
    urgency = serializers.ChoiceField(choices=list(URGENCIES), default="S+")
    organisations = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="organisation codes (descendants too)"
    )
    systems = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class DrillViewSet(viewsets.ReadOnlyModelViewSet[Drill]):
    """Response drills (対応訓練), newest first, with the number of systems that answered and completed."""

    write_roles = (Role.CSIRT,)

    @staticmethod
    def read_allowed(user: Any) -> bool:
        return reads_drills(user)

    def get_queryset(self) -> Any:
        return drills_with_counts().select_related("started_by")

    def get_serializer_class(self) -> Any:
        return DrillSerializer if self.action == "list" else DrillReportSerializer

    def _drill(self, pk: int) -> Response:
        return Response(DrillReportSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=DrillStartSerializer, responses={201: DrillReportSerializer})
    def create(self, request: Request) -> Response:
        """Start a drill for the chosen organisations' and systems' administrators (CSIRT)."""
        form = DrillStartSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        drill = drills.start_drill(
            Actor(request.user, "api"),
            name=data["name"],
            vuln_title=data["vuln_title"],
            urgency=data["urgency"],
            system_ids=participant_system_ids(data["organisations"], data["systems"]),
            description=data["description"],
        )
        response = self._drill(drill.pk)
        response.status_code = 201
        return response

    @extend_schema(request=None, responses=DrillReportSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        """End the drill (CSIRT): its open items are closed, so no reminder or escalation follows."""
        drill = drills.end_drill(Actor(request.user, "api"), self.get_object())
        return self._drill(drill.pk)


def register(router: DefaultRouter) -> None:
    router.register("drills", DrillViewSet, basename="drill")
