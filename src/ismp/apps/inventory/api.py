"""REST API for the inventory: serializers and viewsets. Reads are scoped by role; writes call services."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from ismp.apps.accounts.choices import Role
from ismp.apps.accounts.models import Organisation, User
from ismp.apps.audit.services import Actor
from ismp.apps.inventory import services
from ismp.apps.inventory.exporting import EXPORT_FORMATS, SBOM_FORMATS, export_download, sbom_download
from ismp.apps.inventory.importing import import_inventory
from ismp.apps.inventory.models import Component, System
from ismp.apps.inventory.queries import can_change_system, components_for, system_list, systems_for
from ismp.errors import InputError

WRITERS = (Role.CSIRT, Role.SYSADMIN)


def api_actor(request: Request) -> Actor:
    return Actor(request.user, "api")


class SystemSerializer(serializers.ModelSerializer[System]):
    organisation = serializers.SlugRelatedField(slug_field="code", queryset=Organisation.objects.all())
    service_owner = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), allow_null=True, required=False
    )
    administrators = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), many=True, required=False
    )
    component_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = System
        fields = ["id", *services.EDITABLE_SYSTEM_FIELDS, "created_at", "updated_at", "component_count"]
        read_only_fields = ["created_at", "updated_at"]

    def create(self, validated_data: dict[str, Any]) -> System:
        admins = validated_data.pop("administrators", None)
        return services.save_system(api_actor(self.context["request"]), validated_data, administrators=admins)

    def update(self, instance: System, validated_data: dict[str, Any]) -> System:
        admins = validated_data.pop("administrators", None)
        return services.save_system(
            api_actor(self.context["request"]), validated_data, administrators=admins, system=instance
        )


class VisibleSystemField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A system id, looked up only among the systems the requesting user may see."""

    def get_queryset(self) -> Any:
        return systems_for(self.context["request"].user)


class ComponentSerializer(serializers.ModelSerializer[Component]):
    system = VisibleSystemField()

    class Meta:
        model = Component
        fields = [
            "id",
            "system",
            "cpe",
            "purl",
            "part",
            "vendor",
            "product",
            "version",
            "source",
            "first_seen",
            "last_seen",
        ]
        read_only_fields = ["source", "first_seen", "last_seen"]
        extra_kwargs = {"product": {"required": False}}

    def validate_system(self, system: System) -> System:
        request = self.context["request"]
        if not can_change_system(request.user, system):
            raise serializers.ValidationError("you may not change this system")
        return system

    def _save(self, validated: dict[str, Any], component: Component | None) -> Component:
        system = validated.pop("system", None) or (component.system if component else None)
        if system is None:
            raise serializers.ValidationError({"system": ["a component belongs to a system"]})
        try:
            return services.save_component(api_actor(self.context["request"]), system, validated, component=component)
        except InputError as exc:
            raise serializers.ValidationError({exc.location.field or "non_field_errors": [exc.reason]}) from None

    def create(self, validated_data: dict[str, Any]) -> Component:
        return self._save(validated_data, None)

    def update(self, instance: Component, validated_data: dict[str, Any]) -> Component:
        return self._save(validated_data, instance)


class ImportSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    format = serializers.CharField(required=False, allow_blank=True)
    system = serializers.CharField(required=False, allow_blank=True)


class SystemViewSet(viewsets.ModelViewSet[System]):
    """Systems of the inventory (システム台帳). Filters: search, organisation, system_type, lifecycle,
    criticality; ordering: name, organisation, system_type, lifecycle, criticality, components, updated."""

    serializer_class = SystemSerializer
    write_roles = WRITERS

    def get_queryset(self) -> Any:
        params = self.request.query_params
        return system_list(
            self.request.user,
            search=params.get("search", ""),
            filters={k: params.get(k, "") for k in ("organisation", "system_type", "lifecycle", "criticality")},
            order=params.get("ordering", "name"),
        ).prefetch_related("administrators")

    @staticmethod
    def can_change(user: Any, system: System) -> bool:
        return can_change_system(user, system)

    def perform_destroy(self, instance: System) -> None:
        services.delete_system(api_actor(self.request), instance)

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=list(EXPORT_FORMATS))],
        responses={200: bytes},
    )
    @action(detail=False, methods=["get"])
    def export(self, request: Request) -> HttpResponse:
        """The inventory you may see, as a ledger (csv, xlsx) or JSON."""
        return export_download(request.user, request.query_params.get("format", "csv"))

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=list(SBOM_FORMATS))],
        responses={200: bytes},
    )
    @action(detail=True, methods=["get"])
    def sbom(self, request: Request, pk: str | None = None) -> HttpResponse:
        """This system's components as an SBOM: CycloneDX 1.6 JSON or SPDX 2.3 JSON."""
        return sbom_download(self.get_object(), request.query_params.get("format", "cyclonedx-json"))

    @extend_schema(request=ImportSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_file(self, request: Request) -> Response:
        """Import a ledger (CSV, XLSX) or an SBOM (CycloneDX, SPDX; name the system). Nothing is applied
        unless the whole file is valid; errors name the line and field."""
        form = ImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        report = import_inventory(
            api_actor(request),
            upload.read(),
            upload.name,
            fmt=form.validated_data.get("format") or None,
            system_name=form.validated_data.get("system") or None,
        )
        return Response(report.as_dict())


class ComponentViewSet(viewsets.ModelViewSet[Component]):
    """Components (software, OS, hardware) of the systems you may see; filter with ?system=ID."""

    serializer_class = ComponentSerializer
    write_roles = WRITERS

    def get_queryset(self) -> Any:
        qs = components_for(self.request.user).order_by("system_id", "vendor", "product", "version")
        system = self.request.query_params.get("system")
        if system:
            qs = qs.filter(system_id=system) if system.isdigit() else qs.none()
        return qs

    @staticmethod
    def can_change(user: Any, component: Component) -> bool:
        return can_change_system(user, component.system)

    def perform_destroy(self, instance: Component) -> None:
        services.delete_component(api_actor(self.request), instance)
