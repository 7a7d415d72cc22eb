"""REST API of dashboard: ``GET /api/dashboard/`` is the bottom line of what the caller may see, as JSON.

``?organisation=CODE`` narrows it to an organisation and its descendants, ``?system=ID`` to one system;
the same figures as the home page (``ismp.apps.dashboard.queries.summary``), links included.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from ismp.apps.dashboard.queries import summary


class DashboardViewSet(viewsets.ViewSet):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("organisation", str, description="an organisation's code (descendants included)"),
            OpenApiParameter("system", int, description="one system's id"),
        ],
        responses={200: dict},
    )
    def list(self, request: Request) -> Response:
        """Open, overdue, severe (overdue S+/S-) and completed work items by urgency, risk level,
        organisation and system; the weekly trend; findings by state; control-baseline coverage."""
        data = summary(
            request.user,
            organisation=request.query_params.get("organisation", "").strip(),
            system=request.query_params.get("system") or None,
        )
        return Response(data.as_dict())


def register(router: DefaultRouter) -> None:
    router.register("dashboard", DashboardViewSet, basename="dashboard")
