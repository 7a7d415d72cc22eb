"""REST API of notifications: ``register`` adds its view sets to the API router.

Everyone reads their own notifications and marks them read; the CSIRT reads every notification, retries
failed ones, issues alerts (警報配信) and manages webhooks. Reads go through ``queries``; writes call
``services``, which refuse the wrong role (403 problem responses).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from ismp.apps.accounts.choices import Role
from ismp.apps.accounts.models import Organisation
from ismp.apps.audit.services import Actor
from ismp.apps.inventory.models import System
from ismp.apps.inventory.queries import systems_for
from ismp.apps.notifications import events, queries, services
from ismp.apps.notifications.choices import Channel, DeliveryState, PayloadFormat
from ismp.apps.notifications.models import Alert, Notification, Webhook
from ismp.engines.notify import URGENCY_ORDER


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    recipient = serializers.CharField(source="recipient.username", read_only=True, allow_null=True)
    webhook = serializers.CharField(source="webhook.name", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "channel",
            "recipient",
            "webhook",
            "address",
            "event",
            "dedupe_key",
            "drill",
            "urgency",
            "language",
            "subject",
            "body",
            "items",
            "digest",
            "state",
            "due_at",
            "attempts",
            "last_error",
            "sent_at",
            "read_at",
            "created_at",
        ]
        read_only_fields = fields


class ReadSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False, help_text="omit: all of yours")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("channel", str, enum=list(Channel.values)),
            OpenApiParameter("state", str, enum=list(DeliveryState.values)),
            OpenApiParameter("unread", str, enum=["true"], description="only unread inbox notifications"),
        ]
    )
)
class NotificationViewSet(viewsets.ReadOnlyModelViewSet[Notification]):
    """Your notifications (the CSIRT: everyone's), with their delivery state."""

    serializer_class = NotificationSerializer
    write_roles = tuple(Role.values)

    def get_queryset(self) -> Any:
        qs = queries.notifications_for(self.request.user).select_related("recipient", "webhook")
        params = self.request.query_params
        if params.get("channel") in Channel.values:
            qs = qs.filter(channel=params["channel"])
        if params.get("state") in DeliveryState.values:
            qs = qs.filter(state=params["state"])
        if params.get("unread") == "true":
            qs = qs.filter(channel=Channel.INBOX, read_at__isnull=True)
        return qs.order_by("-created_at", "-pk")

    @extend_schema(request=ReadSerializer, responses={200: dict})
    @action(detail=False, methods=["post"])
    def read(self, request: Request) -> Response:
        """Mark your inbox notifications read (those of ``ids``, or all)."""
        form = ReadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        return Response({"marked": services.mark_read(request.user, form.validated_data.get("ids"))})

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        """Queue a failed notification for delivery again (CSIRT)."""
        notification = self.get_object()
        return Response({"queued": services.retry(Actor(request.user, "api"), [notification.pk])})


class AlertSerializer(serializers.ModelSerializer[Alert]):
    organisations = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Organisation.objects.all(), required=False
    )
    # the systems the requester may see (set in __init__); the CSIRT, who alone issues alerts, sees all
    systems = serializers.PrimaryKeyRelatedField(many=True, queryset=System.objects.none(), required=False)
    urgency = serializers.ChoiceField(choices=[(u, u) for u in URGENCY_ORDER])
    issued_by = serializers.CharField(source="issued_by.username", read_only=True, allow_null=True)
    recipients = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Alert
        fields = [
            "id",
            "subject",
            "body",
            "urgency",
            "drill",
            "organisations",
            "systems",
            "issued_by",
            "issued_at",
            "recipients",
        ]
        read_only_fields = ["id", "issued_by", "issued_at", "recipients"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["systems"].child_relation.queryset = systems_for(request.user)  # type: ignore[attr-defined]


class AlertViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[Alert]
):
    """Alerts issued by the CSIRT (警報配信). Creating one sends it at once to the administrators of the
    chosen systems and of every system of the chosen organisations."""

    serializer_class = AlertSerializer
    write_roles = (Role.CSIRT,)

    @staticmethod
    def read_allowed(user: Any) -> bool:
        return bool(user.sees_everything)

    def get_queryset(self) -> Any:
        return queries.alerts_for(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = AlertSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        issued, report = services.alert(
            Actor(request.user, "api"),
            organisations=data.get("organisations", []),
            systems=data.get("systems", []),
            subject=data["subject"],
            body=data["body"],
            urgency=data["urgency"],
            drill=data.get("drill", False),
        )
        return Response(AlertSerializer(issued).data | {"recipients": report.recipients}, status=201)


class WebhookSerializer(serializers.ModelSerializer[Webhook]):
    organisation = serializers.SlugRelatedField(
        slug_field="code", queryset=Organisation.objects.all(), required=False, allow_null=True
    )
    payload_format = serializers.ChoiceField(choices=PayloadFormat.choices, default=PayloadFormat.JSON)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(events.EVENTS)), required=False, default=list
    )

    class Meta:
        model = Webhook
        fields = ["id", "name", "url", "payload_format", "organisation", "events", "active", "secret", "created_at"]
        read_only_fields = ["id", "secret", "created_at"]


class WebhookViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Webhook],
):
    """Webhook endpoints (CSIRT only). The response carries the signing secret: the ``X-ISMP-Signature``
    header of each delivery is ``sha256=`` and the HMAC-SHA256 of the body with it."""

    serializer_class = WebhookSerializer
    write_roles = (Role.CSIRT,)

    @staticmethod
    def read_allowed(user: Any) -> bool:
        return bool(user.is_csirt)

    def get_queryset(self) -> Any:
        return queries.webhooks_for(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = WebhookSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        hook = services.create_webhook(
            Actor(request.user, "api"),
            name=data["name"],
            url=data["url"],
            payload_format=data["payload_format"],
            organisation=data.get("organisation"),
            event_names=data.get("events", []),
        )
        return Response(WebhookSerializer(hook).data, status=201)

    def perform_destroy(self, instance: Webhook) -> None:
        services.delete_webhook(Actor(self.request.user, "api"), instance)


def register(router: DefaultRouter) -> None:
    router.register("notifications", NotificationViewSet, basename="notification")
    router.register("alerts", AlertViewSet, basename="alert")
    router.register("webhooks", WebhookViewSet, basename="webhook")
