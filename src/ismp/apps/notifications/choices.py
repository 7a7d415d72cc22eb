from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    INBOX = "inbox", _("Inbox (受信箱)")
    MAIL = "mail", _("Mail")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending (未送信)")
    SENT = "sent", _("Sent (送信済)")
    FAILED = "failed", _("Failed (送信失敗)")


class PayloadFormat(models.TextChoices):
    JSON = "json", _("Generic JSON")
    SLACK = "slack", _("Slack-compatible")
    TEAMS = "teams", _("Microsoft Teams")


class Language(models.TextChoices):
    JA = "ja", "日本語"
    EN = "en", "English"
