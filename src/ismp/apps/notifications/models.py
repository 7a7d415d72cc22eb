"""Notifications (通知), alerts (警報配信), webhook endpoints and recipients' preferences.

A ``Notification`` is one message to one recipient over one channel, stored before anything is sent and
rendered in the recipient's language then. Delivery reads pending rows from the database, so a task that
is lost or a mail server that is down loses nothing: the row waits, with its error, for the next attempt.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ismp.apps.notifications.choices import Channel, DeliveryState, Language, PayloadFormat


class Notification(models.Model):
    # "user:<id>" or "webhook:<id>": one key for the dedupe constraint (NULL foreign keys would never collide)
    target = models.CharField(max_length=32, editable=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    recipient = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    webhook = models.ForeignKey(
        "notifications.Webhook",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("webhook"),
    )
    address = models.CharField(_("address"), max_length=500, blank=True)  # mail address or webhook URL, as sent
    event = models.CharField(_("event"), max_length=32)
    dedupe_key = models.CharField(max_length=200)
    drill = models.BooleanField(_("drill (訓練)"), default=False)
    urgency = models.CharField(_("urgency"), max_length=4, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.JA)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    items = models.JSONField(default=list)  # the subjects listed, as plain data (webhook payloads)
    digest = models.BooleanField(_("in the daily digest"), default=False)
    state = models.CharField(_("state"), max_length=8, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    due_at = models.DateTimeField(_("due"), default=timezone.now)  # not sent before (digest time, rate limit)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        constraints = [
            models.UniqueConstraint(fields=["target", "channel", "event", "dedupe_key"], name="notification_once")
        ]
        indexes = [
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["recipient", "channel", "read_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.target}: {self.subject}"


class DeliveryAttempt(models.Model):
    """One attempt to send one message (which may carry several notifications: a digest, a folded mail)."""

    at = models.DateTimeField(_("time"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    target = models.CharField(max_length=32)
    ok = models.BooleanField(_("delivered"))
    error = models.TextField(_("error"), blank=True)
    notifications = models.ManyToManyField(Notification, related_name="delivery_attempts")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["target", "channel", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.channel} {self.target} {'ok' if self.ok else self.error[:60]}"


class Webhook(models.Model):
    """A chat tool or receiver that gets the notifications of one organisation's systems (and of its
    sub-organisations), or of every system when no organisation is set."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    payload_format = models.CharField(
        _("payload format"), max_length=8, choices=PayloadFormat.choices, default=PayloadFormat.JSON
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organisation (empty: company-wide)"),
    )
    events = models.JSONField(_("events (empty: all)"), default=list, blank=True)
    secret = models.CharField(_("signing secret"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook")

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str) -> bool:
        return self.active and (not self.events or event in self.events)


class Alert(models.Model):
    """An alert the CSIRT issued (警報配信): what it said, to whom, and when."""

    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    urgency = models.CharField(_("urgency"), max_length=4)
    drill = models.BooleanField(_("drill (訓練)"), default=False)
    organisations = models.ManyToManyField("accounts.Organisation", blank=True, related_name="+")
    systems = models.ManyToManyField("inventory.System", blank=True, related_name="+")
    issued_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("alert")

    def __str__(self) -> str:
        return self.subject


class Preference(models.Model):
    """A recipient's language and time zone for notifications (the company's defaults otherwise)."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="notification_preference")
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    time_zone = models.CharField(_("time zone"), max_length=64)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language} {self.time_zone}"
