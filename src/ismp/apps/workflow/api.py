"""REST API of work items and the emergency response board, scoped like the web pages.

Reads go through ``queries.work_items_for``: an item outside the caller's scope is a 404. Actions go
through ``services.transition`` with the version the caller read; the problem responses say why:
403 (the role may not), 400 (the state or a value does not allow it), 409 (someone changed the item since:
read it again and retry).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from ismp.apps.accounts.choices import Role
from ismp.apps.audit.services import Actor
from ismp.apps.workflow import drill_api, queries, services, settings_api
from ismp.apps.workflow.forms import ACTION_FORMS
from ismp.apps.workflow.models import WorkItem
from ismp.engines.urgency import URGENCIES
from ismp.engines.workflow import MAX_TEXT, Action, State, Step
from ismp.errors import NotFound


class WorkItemSerializer(serializers.ModelSerializer[WorkItem]):
    system_name = serializers.CharField(source="system.name", read_only=True)
    organisation = serializers.CharField(source="system.organisation.code", read_only=True)
    vulnerability = serializers.CharField(source="vulnerability.vuln_id", read_only=True, allow_null=True)
    subject = serializers.CharField(read_only=True)
    overdue = serializers.SerializerMethodField()
    drill = serializers.CharField(source="drill.name", read_only=True, allow_null=True)

    class Meta:
        model = WorkItem
        fields = [
            "id",
            "kind",
            "system",
            "system_name",
            "organisation",
            "vulnerability",
            "subject",
            "urgency",
            "urgency_explanation",
            "urgency_override",
            "urgency_override_reason",
            "state",
            "overdue",
            "opened_at",
            "answer_due",
            "due",
            "answered_at",
            "needed",
            "decision_reason",
            "planned_date",
            "method",
            "evidence",
            "completed_on",
            "verified_at",
            "stop_ordered_at",
            "stop_order",
            "service_stopped_at",
            "service_resumed_at",
            "no_stop_grounds",
            "exception_reason",
            "exception_until",
            "closed_reason",
            "last_note",
            "drill",
            "version",
        ]
        read_only_fields = fields

    def get_overdue(self, item: WorkItem) -> bool:
        return queries.is_overdue(item)


class WorkItemDetailSerializer(WorkItemSerializer):
    """One item, with the actions the caller may attempt on it now."""

    allowed_actions = serializers.SerializerMethodField()

    class Meta(WorkItemSerializer.Meta):
        fields = [*WorkItemSerializer.Meta.fields, "allowed_actions"]
        read_only_fields = fields

    def get_allowed_actions(self, item: WorkItem) -> list[str]:
        request = self.context.get("request")
        user = request.user if request is not None else None
        return [a.value for a in queries.allowed_actions(user, item) if a in ACTION_FORMS]


class TransitionSerializer(serializers.Serializer[Any]):
    action = serializers.ChoiceField(choices=[a.value for a in ACTION_FORMS])
    version = serializers.IntegerField(min_value=1)
    needed = serializers.BooleanField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT, default="")
    planned_date = serializers.DateField(required=False, allow_null=True, default=None)
    method = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT, default="")
    evidence = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT, default="")
    on = serializers.DateField(required=False, allow_null=True, default=None, help_text="completion date")
    until = serializers.DateField(required=False, allow_null=True, default=None, help_text="exception expiry")
    at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="service stop/resume")

    def step(self) -> Step:
        data = self.validated_data
        return Step(
            Action(data["action"]),
            needed=data["needed"],
            reason=data["reason"],
            planned_date=data["planned_date"],
            method=data["method"],
            evidence=data["evidence"],
            on=data["on"],
            until=data["until"],
            at=data["at"],
        )


class UrgencyOverrideSerializer(serializers.Serializer[Any]):
    urgency = serializers.ChoiceField(choices=["", *URGENCIES], allow_blank=True, help_text='"" clears the override')
    reason = serializers.CharField(max_length=MAX_TEXT)
    version = serializers.IntegerField(min_value=1)


LIST_PARAMETERS = [
    OpenApiParameter("state", str, enum=["open", *(s.value for s in State)]),
    OpenApiParameter("urgency", str, enum=list(URGENCIES)),
    OpenApiParameter("kind", str, enum=["security_info", "diagnosis"]),
    OpenApiParameter("organisation", str, description="an organisation's code (its sub-organisations included)"),
    OpenApiParameter("system", str, description="a system's id or exact name"),
    OpenApiParameter("vuln", str, description="a vulnerability id (CVE-…)"),
    OpenApiParameter("overdue", str, enum=["1"], description="past 登録期限 unanswered, or past 完了期限 open"),
    OpenApiParameter("q", str, description="text in the vulnerability, title or system"),
    OpenApiParameter("ordering", str, enum=[o for key in queries.WORK_ITEM_ORDERS for o in (key, f"-{key}")]),
]
ACTORS = (Role.CSIRT, Role.CISO, Role.SYSADMIN, Role.SERVICE_OWNER)
"""Roles that may attempt an action at all; the state machine decides which (auditors only read)."""


def _filters(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "") for name in queries.WORK_ITEM_FILTERS}


@extend_schema_view(list=extend_schema(parameters=LIST_PARAMETERS))
class WorkItemViewSet(viewsets.ReadOnlyModelViewSet[WorkItem]):
    """Work items (対応状況) of the systems you may see: urgency, deadlines, answers; and the actions on them."""

    write_roles = ACTORS

    def get_queryset(self) -> Any:
        return queries.work_item_list(
            self.request.user, filters=_filters(self.request), order=self.request.query_params.get("ordering") or "due"
        )

    def get_serializer_class(self) -> Any:
        return WorkItemSerializer if self.action == "list" else WorkItemDetailSerializer

    def _item(self, item: WorkItem) -> Response:
        fresh = queries.work_item_detail(self.request.user, item.pk) or item
        return Response(WorkItemDetailSerializer(fresh, context={"request": self.request}).data)

    @extend_schema(request=TransitionSerializer, responses=WorkItemDetailSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Take one action (対策要否, 予定, 承認, 差戻し, 完了, exception, service stop…) at the version you read."""
        item = self.get_object()
        form = TransitionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        version = form.validated_data["version"]
        changed = services.transition(Actor(request.user, "api"), item, form.step(), version=version)
        return self._item(changed)

    @extend_schema(request=UrgencyOverrideSerializer, responses=WorkItemDetailSerializer)
    @action(detail=True, methods=["post"])
    def urgency(self, request: Request, pk: str | None = None) -> Response:
        """Set the item's urgency by hand with a reason, or clear it with "" (CSIRT)."""
        item = self.get_object()
        form = UrgencyOverrideSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        changed = services.override_urgency(
            Actor(request.user, "api"),
            item,
            form.validated_data["urgency"],
            reason=form.validated_data["reason"],
            version=form.validated_data["version"],
        )
        return self._item(changed)


class BoardViewSet(viewsets.ViewSet):
    """The emergency response board: vulnerabilities with open S+/S- items, and one vulnerability's board."""

    lookup_field = "vuln_id"
    lookup_value_regex = "[^/]+"

    @extend_schema(operation_id="board_list", responses={200: dict})
    def list(self, request: Request) -> Response:
        return Response({"results": queries.board_vulnerabilities(request.user)})

    @extend_schema(parameters=[OpenApiParameter("ordering", str, enum=[*queries.BOARD_ORDERS])], responses={200: dict})
    def retrieve(self, request: Request, vuln_id: str | None = None) -> Response:
        board = queries.board(request.user, vuln_id or "", order=request.query_params.get("ordering") or "organisation")
        if board is None:
            raise NotFound(f"no work items of {vuln_id} are visible to you")
        return Response(
            {
                "vulnerability": board.vulnerability.vuln_id,
                "title": board.vulnerability.title,
                "counts": board.counts,
                "by_state": board.by_state,
                "rows": [_board_row(row) for row in board.rows],
            }
        )


def _board_row(row: queries.BoardRow) -> dict[str, Any]:
    item = row.item
    answers = {
        action: {"by": answer.by, "at": answer.at.isoformat(), "note": answer.note}
        for action, answer in row.answers.items()
    }
    return {
        "work_item": item.pk,
        "organisation": item.system.organisation.code,
        "system": item.system.name,
        "administrators": row.administrators,
        "urgency": item.urgency,
        "state": item.state,
        "overdue": row.overdue,
        "answer_due": item.answer_due.isoformat(),
        "due": item.due.isoformat(),
        "planned_date": item.planned_date.isoformat() if item.planned_date else None,
        "answers": answers,
        "waiting_on": row.waiting_on,
    }


def register(router: DefaultRouter) -> None:
    router.register("workitems", WorkItemViewSet, basename="workitem")
    router.register("board", BoardViewSet, basename="board")
    drill_api.register(router)
    settings_api.register(router)
