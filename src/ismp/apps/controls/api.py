"""REST API of controls: the baseline, each system's control status, gaps and coverage, gate checks and
gate exceptions. ``register`` adds the view sets to the API router.

Reads are scoped through ``inventory.queries.systems_for`` (an administrator sees only their systems, the
auditor everything); writes call ``controls.services``, which refuses the wrong role or system (403) or a
bad value (400, naming the field).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from ismp.apps.accounts.choices import Role
from ismp.apps.audit.services import Actor
from ismp.apps.controls import queries, services
from ismp.apps.controls.choices import CONTROL_CHOICES, Gate, Result, Status
from ismp.apps.controls.models import GateCheck, GateException, SystemControl
from ismp.apps.inventory.models import System
from ismp.apps.inventory.queries import systems_for
from ismp.engines.controls import CONTROL_NAMES, SYSTEM_TYPES, Control, GateKind, launch_blockers
from ismp.errors import InputError


def _actor(request: Request) -> Actor:
    return Actor(request.user, "api")


class VisibleSystemField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A system id, looked up only among the systems the requesting user may see."""

    def get_queryset(self) -> Any:
        return systems_for(self.context["request"].user)


def _system_filter(qs: Any, request: Request) -> Any:
    system = request.query_params.get("system", "")
    if system:
        qs = qs.filter(system_id=int(system)) if system.isdigit() else qs.filter(system__name=system)
    organisation = request.query_params.get("organisation", "")
    if organisation:
        qs = qs.filter(system__organisation__code=organisation)
    return qs


SYSTEM_PARAMETERS = [
    OpenApiParameter("system", str, description="a system's id or exact name"),
    OpenApiParameter("organisation", str, description="an organisation's code"),
]

# ------------------------------------------------------------------------------------------ baseline


class BaselineSerializer(serializers.Serializer[Any]):
    requirements = serializers.DictField(
        child=serializers.ListField(child=serializers.ChoiceField(choices=CONTROL_CHOICES)),
        help_text=f"system type ({', '.join(SYSTEM_TYPES)}) → required controls",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)


def _baseline_body() -> dict[str, Any]:
    baseline = queries.current_baseline()
    return {
        "version": baseline.version,
        "requirements": baseline.as_dict(),
        "controls": [
            {"control": c.value, "name": CONTROL_NAMES[c][0], "name_ja": CONTROL_NAMES[c][1]} for c in Control
        ],
    }


class BaselineViewSet(viewsets.ViewSet):
    """The control baseline (適用基準) in force: which controls each system type requires. The CSIRT saves
    a new version with POST (versions are kept; every edit is audited)."""

    write_roles = (Role.CSIRT,)

    @extend_schema(responses={200: dict})
    def list(self, request: Request) -> Response:
        return Response(_baseline_body())

    @extend_schema(request=BaselineSerializer, responses={201: dict})
    def create(self, request: Request) -> Response:
        form = BaselineSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.save_baseline(
            _actor(request), form.validated_data["requirements"], note=form.validated_data.get("note", "")
        )
        return Response(_baseline_body(), status=201)


# ------------------------------------------------------------------------------------- system controls


class SystemControlSerializer(serializers.ModelSerializer[SystemControl]):
    system = VisibleSystemField()
    system_name = serializers.CharField(source="system.name", read_only=True)
    control = serializers.ChoiceField(choices=CONTROL_CHOICES)
    status = serializers.ChoiceField(choices=Status.choices)
    checked_by = serializers.CharField(source="checked_by.username", read_only=True, allow_null=True)

    class Meta:
        model = SystemControl
        fields = [
            "id",
            "system",
            "system_name",
            "control",
            "status",
            "reason",
            "evidence",
            "reference",
            "evidence_file",
            "review_by",
            "checked_by",
            "checked_at",
        ]
        read_only_fields = ["checked_at"]
        validators: list[Any] = []  # (system, control) is an upsert, not a clash

    def create(self, validated_data: dict[str, Any]) -> SystemControl:
        data = dict(validated_data)
        return services.set_control(
            _actor(self.context["request"]), data.pop("system"), data.pop("control"), data.pop("status"), **data
        )


@extend_schema(parameters=SYSTEM_PARAMETERS)
class SystemControlViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[SystemControl]):
    """Each system's recorded control status and evidence. POST records (or replaces) the status of one
    control on one system: the CSIRT, or the system's administrators."""

    serializer_class = SystemControlSerializer
    write_roles = (Role.CSIRT, Role.SYSADMIN)

    def get_queryset(self) -> Any:
        return _system_filter(queries.system_controls_for(self.request.user), self.request).order_by(
            "system__name", "control"
        )


# ------------------------------------------------------------------------------------------ gaps


class GapsViewSet(viewsets.ViewSet):
    """Coverage of the systems you may see (per organisation and in total) and the systems with gaps, most
    gaps first: required controls not implemented, implemented on stale evidence, or not recorded."""

    @extend_schema(
        parameters=[SYSTEM_PARAMETERS[1], OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses={200: dict},
    )
    def list(self, request: Request) -> Response:
        systems = queries.assessed_systems(request.user, organisation=request.query_params.get("organisation", ""))
        coverage = queries.coverage(systems)
        limit = min(_number(request, "limit", 100), 1000)
        offset = _number(request, "offset", 0)
        gapped = queries.systems_with_gaps(systems)
        listed = list(gapped[offset : offset + limit])
        evaluated = queries.gaps_by_system(listed)
        return Response(
            {
                "baseline_version": queries.current_baseline().version,
                "total": _coverage_row(coverage.total),
                "organisations": [_coverage_row(r) for r in coverage.rows],
                "systems_with_gaps": gapped.count(),
                "systems": [
                    {
                        "id": s.pk,
                        "system": s.name,
                        "organisation": s.organisation.code,
                        "system_type": s.system_type,
                        "required": len(evaluated[s.pk].required),
                        "gaps": [{"control": g.control.value, "reason": g.reason.value} for g in evaluated[s.pk].gaps],
                    }
                    for s in listed
                ],
            }
        )


def _number(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name, "")
    if not value:
        return default
    if not value.isdigit():
        raise InputError(f"{name} must be a whole number, not {value!r}", field=name)
    return int(value)


def _coverage_row(row: Any) -> dict[str, Any]:
    return {
        "organisation": row.key,
        "name": row.name,
        "systems": row.systems,
        "required": row.required,
        "implemented": row.implemented,
        "not_applicable": row.not_applicable,
        "stale": row.stale,
        "gaps": row.gaps,
        "coverage": round(row.ratio, 4),
    }


# ------------------------------------------------------------------------------------------ per system


def _system_bodies(systems: list[Any]) -> list[dict[str, Any]]:
    """Each system against the baseline and its launch gate (four queries for any number of systems)."""
    evaluated = queries.gaps_by_system(systems)
    day = queries.today()
    gates = queries.gate_states([s.pk for s in systems], day=day)
    return [
        {
            "id": s.pk,
            "system": s.name,
            "organisation": s.organisation.code,
            "system_type": s.system_type,
            "lifecycle": s.lifecycle,
            "required": [c.value for c in Control if c in evaluated[s.pk].required],
            "implemented": [c.value for c in Control if c in evaluated[s.pk].implemented],
            "not_applicable": [c.value for c in Control if c in evaluated[s.pk].not_applicable],
            "gaps": [{"control": g.control.value, "reason": g.reason.value} for g in evaluated[s.pk].gaps],
            "gates": {k.value: gates[s.pk].results.get(k) for k in GateKind},
            "exception_expires": gates[s.pk].exception_expires,
            "launch_blockers": launch_blockers(gates[s.pk], day),
        }
        for s in systems
    ]


class SystemSummaryViewSet(viewsets.GenericViewSet[System]):
    """Each system you may see against the baseline: required controls, what is implemented or not
    applicable, the gaps with their reason, the latest design review and pre-launch diagnosis, and what
    keeps it from entering service (``launch_blockers``, empty when it may)."""

    def get_queryset(self) -> Any:
        return systems_for(self.request.user).select_related("organisation").order_by("name")

    @extend_schema(operation_id="controls_systems_list", responses={200: dict})
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(_system_bodies(list(page or [])))

    @extend_schema(responses={200: dict})
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(_system_bodies([self.get_object()])[0])


# ------------------------------------------------------------------------------------------ gates


class GateCheckSerializer(serializers.ModelSerializer[GateCheck]):
    system = VisibleSystemField()
    system_name = serializers.CharField(source="system.name", read_only=True)
    kind = serializers.ChoiceField(choices=Gate.choices)
    result = serializers.ChoiceField(choices=Result.choices)
    performed_on = serializers.DateField(required=False)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True, allow_null=True)

    class Meta:
        model = GateCheck
        fields = [
            "id",
            "system",
            "system_name",
            "kind",
            "result",
            "performed_on",
            "evidence",
            "reference",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["recorded_at"]

    def create(self, validated_data: dict[str, Any]) -> GateCheck:
        data = dict(validated_data)
        return services.record_gate_check(
            _actor(self.context["request"]), data.pop("system"), data.pop("kind"), data.pop("result"), **data
        )


@extend_schema(parameters=SYSTEM_PARAMETERS)
class GateCheckViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[GateCheck]):
    """Design reviews (設計レビュー) and pre-launch diagnoses (リリース前診断), newest first. The CSIRT or the
    system's service owner records one; the latest of each kind decides whether the system may enter
    service."""

    serializer_class = GateCheckSerializer
    write_roles = (Role.CSIRT, Role.SERVICE_OWNER)

    def get_queryset(self) -> Any:
        return _system_filter(queries.gate_checks_for(self.request.user), self.request).order_by("-performed_on", "-pk")


class GateExceptionSerializer(serializers.ModelSerializer[GateException]):
    system = VisibleSystemField()
    system_name = serializers.CharField(source="system.name", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, allow_null=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, allow_null=True)

    class Meta:
        model = GateException
        fields = [
            "id",
            "system",
            "system_name",
            "reason",
            "expires_on",
            "state",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = ["state", "requested_at", "decided_at", "decision_note"]

    def create(self, validated_data: dict[str, Any]) -> GateException:
        return services.request_exception(
            _actor(self.context["request"]),
            validated_data["system"],
            reason=validated_data["reason"],
            expires_on=validated_data["expires_on"],
        )


class DecisionSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)


@extend_schema(parameters=[*SYSTEM_PARAMETERS, OpenApiParameter("state", str, enum=["pending", "approved", "refused"])])
class GateExceptionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[GateException]):
    """Exceptions to the pre-launch gate: requested by the CSIRT or the system's administrators with a reason
    and an expiry date, approved or refused by the CISO."""

    serializer_class = GateExceptionSerializer
    write_roles = (Role.CSIRT, Role.SYSADMIN, Role.CISO)

    def get_queryset(self) -> Any:
        qs = _system_filter(queries.exceptions_for(self.request.user), self.request)
        state = self.request.query_params.get("state", "")
        return (qs.filter(state=state) if state else qs).order_by("-requested_at", "-pk")

    def _decide(self, request: Request, approve: bool) -> Response:
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        exception = services.decide_exception(
            _actor(request), self.get_object(), approve=approve, note=form.validated_data.get("note", "")
        )
        return Response(GateExceptionSerializer(exception, context={"request": request}).data)

    @extend_schema(request=DecisionSerializer, responses=GateExceptionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """The CISO approves: the system may enter service until the exception expires."""
        return self._decide(request, True)

    @extend_schema(request=DecisionSerializer, responses=GateExceptionSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk: str | None = None) -> Response:
        """The CISO refuses (say why in the note)."""
        return self._decide(request, False)


def register(router: DefaultRouter) -> None:
    router.register("controls/baseline", BaselineViewSet, basename="controls-baseline")
    router.register("controls/status", SystemControlViewSet, basename="controls-status")
    router.register("controls/gaps", GapsViewSet, basename="controls-gaps")
    router.register("controls/systems", SystemSummaryViewSet, basename="controls-system")
    router.register("controls/gate-checks", GateCheckViewSet, basename="controls-gate-check")
    router.register("controls/gate-exceptions", GateExceptionViewSet, basename="controls-gate-exception")
