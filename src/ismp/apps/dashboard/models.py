"""The bottom line's roll-up: per-system counts of work items and findings as of the last refresh.

The whole company's figures would otherwise scan a million work items four times per page view. These
tables hold the same grouped counts the live queries compute (``ismp.apps.dashboard.sources``), one row
per system, per system × urgency × risk level, per system × week and per system × finding state, and the
same per organisation (a few thousand rows for the roles that see everything); the dashboard sums them for
large scopes and queries the live tables for small ones. ``services.refresh`` rebuilds them in
one transaction (the task runner does it every five minutes). Derived data: nothing here is audited.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SystemCounts(models.Model):
    """Work items of one system with one urgency and risk level (None: no known vulnerability)."""

    system = models.ForeignKey("inventory.System", on_delete=models.CASCADE, related_name="+")
    urgency = models.CharField(max_length=2)
    risk_level = models.PositiveSmallIntegerField(null=True)
    open = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    severe = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.system_id} {self.urgency}/{self.risk_level}: {self.open} open"


class SystemTotals(models.Model):
    """All work items of one system, with its organisation: ranks systems and sums organisations without
    reading the per-urgency cells."""

    system = models.OneToOneField("inventory.System", on_delete=models.CASCADE, related_name="+", primary_key=True)
    organisation_id = models.IntegerField()  # the system's at refresh time; no constraint, like a cache
    open = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    severe = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["severe", "overdue", "open"])]

    def __str__(self) -> str:
        return f"{self.system_id}: {self.open} open, {self.overdue} overdue"


class SystemWeek(models.Model):
    """Work items of one system opened and completed in the week starting on ``week`` (a Monday)."""

    system = models.ForeignKey("inventory.System", on_delete=models.CASCADE, related_name="+")
    week = models.DateField()
    opened = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.system_id} {self.week}: +{self.opened} / {self.completed} completed"


class SystemFindings(models.Model):
    """Findings of one system in one state: all of them, and those an administrator sees (confirmed)."""

    system = models.ForeignKey("inventory.System", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16)
    count = models.PositiveIntegerField(default=0)
    confirmed = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.system_id} {self.state}: {self.count}"


class OrganisationCounts(models.Model):
    """``SystemCounts`` summed per organisation (its own systems, not its descendants'): what the
    company-wide and organisation views of the roles that see everything read."""

    organisation_id = models.IntegerField(db_index=True)
    urgency = models.CharField(max_length=2)
    risk_level = models.PositiveSmallIntegerField(null=True)
    open = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    severe = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"organisation {self.organisation_id} {self.urgency}/{self.risk_level}: {self.open} open"


class OrganisationWeek(models.Model):
    organisation_id = models.IntegerField(db_index=True)
    week = models.DateField()
    opened = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"organisation {self.organisation_id} {self.week}"


class OrganisationFindings(models.Model):
    organisation_id = models.IntegerField(db_index=True)
    state = models.CharField(max_length=16)
    count = models.PositiveIntegerField(default=0)
    confirmed = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"organisation {self.organisation_id} {self.state}: {self.count}"


class Refresh(models.Model):
    """When the roll-up was last rebuilt (one row) and how long it took."""

    refreshed_at = models.DateTimeField(_("refreshed"))
    seconds = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"roll-up of {self.refreshed_at:%Y-%m-%d %H:%M}"
