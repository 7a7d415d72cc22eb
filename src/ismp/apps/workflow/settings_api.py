"""REST API of the urgency matrix and the response policy, as on the page /workitems/settings/: everyone
signed in reads them (they decide every deadline); only the CSIRT changes them, each change a new audited
version (the matrix's change recomputes every urgency).

    GET  /api/urgency-settings/          the matrix in force, its versions, the response policy
    POST /api/urgency-settings/matrix/   {"cells": {"remote_tool": {"5": "S+", …}, …}, "note": "why",
                                          "thresholds": [[9.0, 5], [7.0, 4], [4.0, 3], [0.1, 2]] (optional)}
    POST /api/urgency-settings/policy/   {"answer_days": {"S+": 1, …}, "deadline_days": {…}, "business_days": false}
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
from ismp.apps.workflow import services
from ismp.apps.workflow.models import UrgencyMatrix
from ismp.engines.urgency import RESPONSE_STANDARDS


class MatrixChangeSerializer(serializers.Serializer[Any]):
    cells = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="attack possibility (remote_tool, remote_no_tool, not_remote) → risk level 5…1 → S+/S-/A/B",
    )
    note = serializers.CharField(help_text="why the matrix changes")
    thresholds = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        required=False,
        help_text="CVSS base score → risk level, highest first: [[9.0, 5], [7.0, 4], [4.0, 3], [0.1, 2]]",
    )


class PolicyChangeSerializer(serializers.Serializer[Any]):
    answer_days = serializers.DictField(child=serializers.IntegerField(), help_text="登録期間 per urgency, days")
    deadline_days = serializers.DictField(child=serializers.IntegerField(), help_text="完了期限 per urgency, days")
    business_days = serializers.BooleanField(default=False, help_text="skip weekends and Japanese holidays")


def _settings() -> dict[str, Any]:
    matrix = services.current_matrix()
    policy = services.current_policy()
    versions = UrgencyMatrix.objects.select_related("created_by").order_by("-created_at", "-pk")
    return {
        "matrix": {
            "version": matrix.version,
            "cells": matrix.to_mapping(),
            "thresholds": [list(pair) for pair in services.current_thresholds()],
        },
        "matrix_versions": [
            {
                "version": row.version,
                "note": row.note,
                "created_by": row.created_by.username if row.created_by else None,
                "created_at": row.created_at,
            }
            for row in versions
        ],
        "response_standards": dict(RESPONSE_STANDARDS),
        "policy": {
            "answer_days": dict(policy.answer_days),
            "deadline_days": dict(policy.deadline_days),
            "business_days": policy.business_days,
        },
    }


class UrgencySettingsViewSet(viewsets.ViewSet):
    """The urgency matrix (対応緊急度) and the response policy (登録期間, 完了期限)."""

    write_roles = (Role.CSIRT,)

    @extend_schema(responses={200: dict})
    def list(self, request: Request) -> Response:
        return Response(_settings())

    @extend_schema(request=MatrixChangeSerializer, responses={200: dict})
    @action(detail=False, methods=["post"])
    def matrix(self, request: Request) -> Response:
        """Store a new version of the matrix (CSIRT); every urgency is decided again under it."""
        form = MatrixChangeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        services.set_matrix(
            Actor(request.user, "api"), data["cells"], note=data["note"], thresholds=data.get("thresholds")
        )
        return Response(_settings())

    @extend_schema(request=PolicyChangeSerializer, responses={200: dict})
    @action(detail=False, methods=["post"])
    def policy(self, request: Request) -> Response:
        """Store new registration periods and deadlines (CSIRT); existing items keep theirs."""
        form = PolicyChangeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        services.set_policy(
            Actor(request.user, "api"),
            answer_days=data["answer_days"],
            deadline_days=data["deadline_days"],
            business_days=data["business_days"],
        )
        return Response(_settings())


def register(router: DefaultRouter) -> None:
    router.register("urgency-settings", UrgencySettingsViewSet, basename="urgency-settings")
