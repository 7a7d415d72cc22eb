"""Read logic for notifications, scoped by role. Every list of notifications goes through these.

Everyone sees their own notifications (their inbox, and the mails sent to them); the CSIRT sees every
notification with its delivery state, the alerts and the webhook endpoints. Nobody else sees another
person's notifications: they may name systems and vulnerabilities outside the reader's scope.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet

from ismp.apps.notifications.choices import Channel, DeliveryState
from ismp.apps.notifications.models import Alert, Notification, Preference, Webhook


def _active(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def can_manage(user: Any) -> bool:
    """The CSIRT sees every delivery, retries failures, issues alerts and manages webhooks."""
    return _active(user) and bool(user.is_csirt)


def notifications_for(user: Any) -> QuerySet[Notification]:
    if not _active(user):
        return Notification.objects.none()
    if can_manage(user):
        return Notification.objects.all()
    return Notification.objects.filter(recipient=user)


def inbox_for(user: Any) -> QuerySet[Notification]:
    """The user's own inbox: unread first, newest first."""
    if not _active(user):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user, channel=Channel.INBOX).order_by(
        F("read_at").asc(nulls_first=True), "-created_at", "-pk"
    )


def unread_count(user: Any) -> int:
    if not _active(user):
        return 0
    return Notification.objects.filter(recipient=user, channel=Channel.INBOX, read_at__isnull=True).count()


def delivery_list(user: Any, *, state: str = "", channel: str = "") -> QuerySet[Notification]:
    """The CSIRT's view of every notification with its delivery state (failed first); empty for others."""
    if not can_manage(user):
        return Notification.objects.none()
    qs = Notification.objects.select_related("recipient", "webhook")
    if state in DeliveryState.values:
        qs = qs.filter(state=state)
    if channel in Channel.values:
        qs = qs.filter(channel=channel)
    return qs.order_by("-created_at", "-pk")


def pending_for(user: Any) -> QuerySet[Notification]:
    """Undelivered and failed notifications (mail and webhooks), oldest first."""
    return (
        notifications_for(user)
        .exclude(channel=Channel.INBOX)
        .exclude(state=DeliveryState.SENT)
        .select_related("recipient", "webhook")
        .order_by("due_at", "pk")
    )


def webhooks_for(user: Any) -> QuerySet[Webhook]:
    return Webhook.objects.select_related("organisation") if can_manage(user) else Webhook.objects.none()


def alerts_for(user: Any) -> QuerySet[Alert]:
    """Alerts issued: the CSIRT, and those who see everything (CISO, auditor)."""
    if not (_active(user) and user.sees_everything):
        return Alert.objects.none()
    return Alert.objects.select_related("issued_by").prefetch_related("organisations", "systems")


def preference_for(user: Any) -> Preference | None:
    """The user's own notification language and time zone, if they chose them."""
    return Preference.objects.filter(user=user).first() if _active(user) else None
