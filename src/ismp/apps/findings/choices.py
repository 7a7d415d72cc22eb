from django.db import models
from django.utils.translation import gettext_lazy as _


class FindingState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    NOT_AFFECTED = "not_affected", _("Not affected")


class Confidence(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low (needs confirmation)")
